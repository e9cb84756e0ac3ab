"""The backend's commands of `portal`: staff accounts, the statistics export and the retention purge.

forms_api is imported inside each command, so `portal check` and `portal build` never load Flask,
SQLAlchemy or cryptography."""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from core.vocab import STAFF_ROLES
from portal.guard import guarded

UNCHANGED = "后台数据未改动"
SHOWN_ONCE = "密码只显示这一次，请立即转交本人并妥善保管。"


def _content_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--content and --config, as for the site commands: the backend reads the same content."""
    func = click.option("--config", default="site_config.yml", type=click.Path(path_type=Path), show_default=True,
                        help="站点设置文件")(func)  # fmt: skip
    return click.option("--content", default="content", type=click.Path(path_type=Path), show_default=True,
                        help="内容目录")(func)  # fmt: skip


@click.group()
def user() -> None:
    """管理工作人员账号（没有默认账号）。"""


@user.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(list(STAFF_ROLES)),
              help="intake 受理员、supervisor 督办员、window-lead 窗口负责人、auditor 审计员")  # fmt: skip
@click.option("--window", "windows", multiple=True, help="窗口负责人负责的窗口，如 county-hall:1，可写多次")
@click.option("--badge", help="工号（必填），如 QX0117；岗位名单（posts.yml）中有的工号自动带出姓名")
@click.option("--real-name", "real_name", help="真实姓名，打印的登记表、督办单上显示；工号在岗位名单中时可不填")
@_content_options
@guarded(UNCHANGED)
def add(name: str, role: str, windows: tuple[str, ...], badge: str | None, real_name: str | None, content: Path,
        config: Path) -> None:  # fmt: skip
    """新建账号：交互时询问密码（直接回车则自动生成），否则自动生成；密码只显示这一次。"""
    from forms_api import admin
    from forms_api.identity import username

    app = admin.open_backend(content, config)
    admin.check_windows(app, windows)
    password, label = admin.add_user(app, name, role, list(windows), _typed_password(), real_name, badge)
    click.echo(f"已创建 {username(name)}（{STAFF_ROLES[role]}）：{label}。登录时用户名不区分大小写和全角半角。"
               f"密码：{password}")  # fmt: skip
    click.echo(SHOWN_ONCE)


@user.command("list")
@_content_options
@guarded(UNCHANGED)
def list_(content: Path, config: Path) -> None:
    """列出全部账号：用户名、姓名、工号、角色、负责窗口和状态（不显示密码）。"""
    from forms_api import admin

    rows = admin.list_users(admin.open_backend(content, config))
    if not rows:
        click.echo("还没有账号。用 portal user add 新建。")
        return
    click.echo(_table(("用户名", "姓名", "工号", "角色", "负责窗口", "状态"), rows))


def _width(text: str) -> int:
    """Columns a terminal gives the text: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _table(headers: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    """A plain-text table lined up for Chinese text."""
    widths = [max(_width(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    lines = ["  ".join(cell + " " * (w - _width(cell)) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in [headers, *rows]]  # fmt: skip
    return "\n".join([lines[0], "  ".join("-" * w for w in widths), *lines[1:]])


def _typed_password() -> str | None:
    """A password typed at a terminal (twice), or None to generate one; scripts always get a generated one."""
    if not sys.stdin.isatty():
        return None
    typed = click.prompt("密码（至少 10 位；直接回车则自动生成）", hide_input=True, default="", show_default=False,
                         confirmation_prompt="再输入一次")  # fmt: skip
    return typed or None


@user.command("set")
@click.argument("name")
@click.option("--badge", help="工号，如 QX0117；岗位名单（posts.yml）中有的工号自动带出姓名")
@click.option("--real-name", "real_name", help="真实姓名；工号在岗位名单中时可不填")
@_content_options
@guarded(UNCHANGED)
def set_(name: str, badge: str | None, real_name: str | None, content: Path, config: Path) -> None:
    """补填或更正已有账号的工号和真实姓名（早先建立的账号没有这两项）。"""
    from forms_api import admin

    label = admin.set_identity(admin.open_backend(content, config), name, real_name, badge)
    click.echo(f"已更新账号 {name}：{label}。")


@user.command("disable")
@click.argument("name")
@_content_options
@guarded(UNCHANGED)
def disable(name: str, content: Path, config: Path) -> None:
    """停用账号：立即结束该账号所有已登录的会话，之后不能再登录（可用 enable 恢复）。"""
    click.echo(f"已停用 {_set_active(name, content, config, active=False)}，其所有登录会话已失效。")


@user.command("enable")
@click.argument("name")
@_content_options
@guarded(UNCHANGED)
def enable(name: str, content: Path, config: Path) -> None:
    """恢复被停用的账号（原密码仍有效；如有泄露请再运行 reset-password）。"""
    click.echo(f"已恢复 {_set_active(name, content, config, active=True)}。")


def _set_active(name: str, content: Path, config: Path, active: bool) -> str:
    """Disable or enable an account; its name as stored."""
    from forms_api import admin

    return admin.set_active(admin.open_backend(content, config), name, active)


@user.command("reset-password")
@click.argument("name")
@_content_options
@guarded(UNCHANGED)
def reset_password(name: str, content: Path, config: Path) -> None:
    """重设密码：交互时询问新密码（直接回车则自动生成），否则自动生成；该账号所有登录会话立即失效。"""
    from forms_api import admin
    from forms_api.identity import username

    password = admin.reset_password(admin.open_backend(content, config), name, _typed_password())
    click.echo(f"已重设 {username(name)} 的密码，其所有登录会话已失效。新密码：{password}")
    click.echo(SHOWN_ONCE)


@click.command()
@_content_options
@guarded(UNCHANGED)
def purge(content: Path, config: Path) -> None:
    """删除超过保存期限（site_config.yml 的 retention_days）的已办结案件中的个人信息。"""
    from forms_api import admin

    count, days = admin.purge(admin.open_backend(content, config))
    click.echo(f"已删除 {count} 件已办结案件的个人信息（保存期限 {days} 天）。")


@click.group()
def cases() -> None:
    """投诉案件的定时处理。"""


@cases.command("sweep")
@click.option("--today", "today", default=None, help="按哪一天计算（YYYY-MM-DD），默认今天；用于补跑")
@_content_options
@guarded(UNCHANGED)
def sweep(today: str | None, content: Path, config: Path) -> None:
    """将已答复、复督申请期满仍未申请的案件结案（每天运行一次；重复运行不会重复结案）；早先登记的案件补上办理期限。"""
    from datetime import date

    from forms_api import admin

    try:
        day = date.fromisoformat(today) if today else None
    except ValueError:
        raise click.BadParameter(f"日期「{today}」应写成 2026-01-31 的形式", param_hint="--today") from None
    app = admin.open_backend(content, config)
    if day is not None and day > admin.local_today(app):  # a future date would close cases still in their window
        raise click.BadParameter(f"日期「{today}」晚于今天；--today 只用于补跑已经过去的日子", param_hint="--today")
    closed, dated = admin.sweep(app, day)
    if dated:
        click.echo(f"已为 {dated} 件早先登记、没有办理期限的案件补上期限（从其最近一次办理算起）。")
    click.echo(f"已结案 {len(closed)} 件：复督申请期满未申请。" + (f"受理编号：{'、'.join(closed)}" if closed else ""))


@click.group()
def stats() -> None:
    """服务评价统计（不含个人信息）。"""


@stats.command("export")
@click.option("--out", default="content/stats.json", type=click.Path(path_type=Path), show_default=True,
              help="输出文件；放在内容目录中，portal build 会据此生成“服务评价公示”页面")  # fmt: skip
@_content_options
@guarded(UNCHANGED)
def export(out: Path, content: Path, config: Path) -> None:
    """按月导出投诉、办结、按时办结率、评价和差评整改统计。"""
    from forms_api import admin

    figures = admin.export_stats(admin.open_backend(content, config))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(figures.model_dump_json(indent=1), encoding="utf-8")
    tmp.replace(out)  # never a half-written file for the next build to read
    click.echo(f"已导出 {len(figures.months)} 个月的统计到 {out}。运行 portal build 即可公开。")
