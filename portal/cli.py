"""The `portal` command: check, build, serve and preview the site; the backend's commands are added below."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
import yaml

from core.errors import ContentError, PortalError
from core.fields import DEFAULT_TIMEZONE
from core.schema import write_schemas
from generator import pipeline
from portal import backend
from portal.guard import PortalGroup, guarded, print_problems
from portal.serve import preview_site, serve_app, serve_site


def _today(value: str | None, config: Path) -> date:
    """The build date: --today for reproducible builds, else today in the site's time zone."""
    if value:
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise click.BadParameter("日期应写成 2026-01-31 的形式", param_hint="--today") from None
    try:
        zone = str((yaml.safe_load(config.read_text(encoding="utf-8")) or {}).get("timezone", DEFAULT_TIMEZONE))
        tz = ZoneInfo(zone)
    except (OSError, ValueError, AttributeError, yaml.YAMLError, ZoneInfoNotFoundError):
        tz = ZoneInfo(DEFAULT_TIMEZONE)  # the checker reports a bad config; the date must not fail first
    return datetime.now(tz).date()


def _paths(func: Callable[..., Any]) -> Callable[..., Any]:
    """Options every site command shares."""
    func = click.option("--today", help="按此日期检查和生成（YYYY-MM-DD），默认今天")(func)
    func = click.option("--config", "config", default="site_config.yml", type=click.Path(path_type=Path),
                        show_default=True, help="站点设置文件")(func)  # fmt: skip
    func = click.option("--content", default="content", type=click.Path(path_type=Path),
                        show_default=True, help="内容目录")(func)  # fmt: skip
    return func


def _address(func: Callable[..., Any]) -> Callable[..., Any]:
    """--host and --port for the serving commands."""
    func = click.option("--port", default=8000, type=click.IntRange(1, 65535), show_default=True, help="端口")(func)
    return click.option("--host", default="127.0.0.1", show_default=True, help="监听地址")(func)


@click.group(cls=PortalGroup)
def main() -> None:
    """人社服务大厅政务公开门户：检查内容、生成网站、本地预览，以及后台账号、统计和清理。"""


@main.command()
@_paths
@click.option("--out", default="site", type=click.Path(path_type=Path), show_default=True, help="已发布网站目录")
@guarded()
def check(content: Path, config: Path, today: str | None, out: Path) -> None:
    """检查内容：列出全部错误和警告（有错误时退出码为 1）。"""
    result = pipeline.check(content, config, _today(today, config), out)
    print_problems(result.errors + result.warnings)
    if result.errors:
        click.echo(f"发现 {len(result.errors)} 处错误、{len(result.warnings)} 条警告。", err=True)
        sys.exit(1)
    services = len(result.catalogue.services) if result.catalogue else 0
    click.echo(f"检查通过：{services} 个事项，{len(result.warnings)} 条警告。")


@main.command()
@_paths
@click.option("--out", default="site", type=click.Path(path_type=Path), show_default=True, help="输出目录")
@click.option("--keep-markdown", type=click.Path(path_type=Path), help="保留生成的 Markdown 和 mkdocs.yml")
@click.option("--timings", is_flag=True, help="显示各阶段用时和峰值内存")
@guarded()
def build(content: Path, config: Path, today: str | None, out: Path, keep_markdown: Path | None, timings: bool) -> None:
    """先检查，再生成网站；失败时原网站保持不变。"""
    report = pipeline.build(content, config, out, _today(today, config), keep_markdown)
    print_problems(report.warnings)
    click.echo(f"已生成 {out}：{report.services} 个事项，{report.pages} 个页面，用时 {report.seconds:.1f} 秒。")
    if timings:
        stages = "，".join(f"{name} {seconds:.1f} 秒" for name, seconds in report.stages.items())
        click.echo(f"各阶段：{stages}；单个进程峰值内存 {report.peak_mib} MiB。")


@main.command()
@_paths
@click.option("--out", default="site", type=click.Path(path_type=Path), show_default=True, help="网站目录")
@_address
@click.option("--static-only", is_flag=True, help="只提供静态网站，不启动在线表单和工作人员后台")
@guarded("未启动")
def serve(content: Path, config: Path, today: str | None, out: Path, host: str, port: int, static_only: bool) -> None:
    """在本机提供网站和在线表单、工作人员后台（同一地址）。"""
    if static_only:
        serve_site(out, host, port)
        return
    serve_app(content, config, out, host, port)


@main.command()
@_paths
@click.option(
    "--out",
    default="site",
    type=click.Path(path_type=Path),
    show_default=True,
    help="已发布网站目录（预览不改动它，只在其旁的缓存目录里生成预览）",
)
@_address
@guarded()
def preview(content: Path, config: Path, today: str | None, out: Path, host: str, port: int) -> None:
    """编辑预览：提供网站，内容一有改动就重新检查和生成。"""
    warm = pipeline.Warm()  # unchanged guides are not checked or summarised again: one edit at scale takes seconds

    def rebuild() -> None:
        try:
            report = pipeline.build(content, config, out, _today(today, config), warm=warm)
        except ContentError as exc:
            print_problems(exc.problems)
            click.echo(f"发现 {len(exc.problems)} 处错误，预览仍显示上一次成功生成的网站；改正后保存即可。", err=True)
        except (PortalError, OSError) as exc:  # the preview goes on: the next save builds again, from scratch
            click.echo(f"错误：{exc}。预览继续运行，保存文件后重新生成。", err=True)
        else:
            print_problems(report.warnings)
            shown = sum(report.stages.get(stage, 0.0) for stage in ("check", "render", "mkdocs"))
            click.echo(
                f"已重新生成：{report.services} 个事项，用时 {report.seconds:.1f} 秒"
                f"（页面在 {shown:.1f} 秒时已更新，搜索索引随后更新）。"
            )
        finally:
            warm.settle()  # after saying so: the editor reads the page while the garbage is collected

    # Its own folder, updated in place (seconds at 10,000 services); `site` stays as `portal build` published it.
    with pipeline.previewing(out):
        preview_site(pipeline.preview_folder(out), host, port, watch=[content, config], rebuild=rebuild)


@main.command()
@click.option("--out", default="schema", type=click.Path(path_type=Path), show_default=True, help="输出目录")
@guarded("未写入")
def schema(out: Path) -> None:
    """为每种内容文件写出 JSON Schema，供编辑器提示未知的键和缺少的必填项。"""
    written = write_schemas(out)
    click.echo(f"已写入 {len(written)} 个 JSON Schema 到 {out}：{'、'.join(p.name for p in written)}")


main.add_command(backend.user)
main.add_command(backend.stats)
main.add_command(backend.purge)
main.add_command(backend.cases)
