"""Backend commands of `portal`: staff accounts, statistics export and the retention purge."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from forms_api.db import transaction
from forms_api.security import ROLES


def _app(content: Path, config: Path, site: Path | None = None):  # type: ignore[no-untyped-def]
    from forms_api import create_app

    overrides = {"PORTAL_CONTENT": str(content), "PORTAL_SITE_CONFIG": str(config)}
    if site is not None:
        overrides["PORTAL_SITE_DIR"] = str(site)
    return create_app(overrides)


@click.group()
def user() -> None:
    """管理工作人员账号（没有默认账号）。"""


@user.command("add")
@click.argument("name")
@click.option(
    "--role",
    required=True,
    type=click.Choice(list(ROLES)),
    help="intake 受理员、supervisor 督办员、window-lead 窗口负责人、auditor 审计员",
)
@click.option("--window", "windows", multiple=True, help="窗口负责人负责的窗口，如 county-hall:1，可写多次")
@click.option("--content", default="content", type=click.Path(path_type=Path), show_default=True)
@click.option("--config", default="site_config.yml", type=click.Path(path_type=Path), show_default=True)
def add(name: str, role: str, windows: tuple[str, ...], content: Path, config: Path) -> None:
    """新建账号：交互时询问密码（直接回车则自动生成），否则自动生成；密码只显示这一次。"""
    from forms_api.users import UserError, add_user

    app = _app(content, config)
    known = {t.key.removeprefix("window:") for t in app.extensions["targets"].values() if t.key.startswith("window:")}
    unknown = [w for w in windows if w not in known]
    if unknown:
        raise click.BadParameter(
            f"没有这些窗口：{'、'.join(unknown)}；可用：{'、'.join(sorted(known))}", param_hint="--window"
        )
    password = None
    if sys.stdin.isatty():
        typed = click.prompt("密码（至少 10 位；直接回车则自动生成）", hide_input=True, default="", show_default=False,
                             confirmation_prompt="再输入一次")  # fmt: skip
        password = typed or None
    try:
        with transaction(app.extensions["sessions"]) as session:
            password = add_user(session, name, role, list(windows), password)
    except UserError as exc:
        click.echo(f"错误：{exc}", err=True)
        sys.exit(1)
    click.echo(f"已创建 {name}（{ROLES[role]}）。密码：{password}")
    click.echo("密码只显示这一次，请立即转交本人并妥善保管。")


@click.command()
@click.option("--content", default="content", type=click.Path(path_type=Path), show_default=True)
@click.option("--config", default="site_config.yml", type=click.Path(path_type=Path), show_default=True)
def purge(content: Path, config: Path) -> None:
    """删除超过保存期限（site_config.yml 的 retention_days）的已办结案件中的个人信息。"""
    from forms_api import retention

    app = _app(content, config)
    days = app.extensions["catalogue"].config.retention_days
    with transaction(app.extensions["sessions"]) as session:
        count = retention.purge(session, days)
    click.echo(f"已删除 {count} 件已办结案件的个人信息（保存期限 {days} 天）。")


@click.group()
def stats() -> None:
    """服务评价统计（不含个人信息）。"""


@stats.command("export")
@click.option("--out", default="content/stats.json", type=click.Path(path_type=Path), show_default=True,
              help="输出文件；放在内容目录中，portal build 会据此生成“服务评价公示”页面")  # fmt: skip
@click.option("--content", default="content", type=click.Path(path_type=Path), show_default=True)
@click.option("--config", default="site_config.yml", type=click.Path(path_type=Path), show_default=True)
def export(out: Path, content: Path, config: Path) -> None:
    """按月导出投诉、办结、按时办结率、评价和差评整改统计。"""
    from forms_api import stats as figures
    from forms_api.views import today

    app = _app(content, config)
    with app.app_context(), app.extensions["sessions"]() as session:
        data = figures.export(session, app.extensions["catalogue"], today())
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(figures.dumps(data), encoding="utf-8")
    tmp.replace(out)  # never a half-written file for the next build to read
    click.echo(f"已导出 {len(data['months'])} 个月的统计到 {out}。运行 portal build 即可公开。")
