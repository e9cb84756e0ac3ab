"""The `portal` command: check, build, serve and preview the disclosure site."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
import yaml

from generator import pipeline
from generator.errors import ContentError, PortalError, Problem
from generator.serve import preview_site, serve_app, serve_site

DEFAULT_TZ = "Asia/Shanghai"


def _today(value: str | None, config: Path) -> date:
    """The build date: --today for reproducible builds, else today in the site's time zone."""
    if value:
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise click.BadParameter("日期应写成 2026-01-31 的形式", param_hint="--today") from None
    try:
        zone = str((yaml.safe_load(config.read_text(encoding="utf-8")) or {}).get("timezone", DEFAULT_TZ))
        tz = ZoneInfo(zone)
    except (OSError, ValueError, AttributeError, yaml.YAMLError, ZoneInfoNotFoundError):
        tz = ZoneInfo(DEFAULT_TZ)  # the checker reports a bad config; the date must not fail first
    return datetime.now(tz).date()


def _print_problems(problems: list[Problem]) -> None:
    """Every problem as `path:line: message`, errors to stderr, warnings to stdout."""
    cwd = Path.cwd()
    for problem in problems:
        click.echo(problem.format(cwd), err=problem.severity == "error")


def _guarded(func: Callable[..., Any]) -> Callable[..., Any]:
    """No traceback ever reaches an editor: errors become a message and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ContentError as exc:
            _print_problems(exc.problems)
            click.echo(f"发现 {len(exc.problems)} 处错误，网站未更新。", err=True)
            sys.exit(1)
        except PortalError as exc:
            click.echo(f"错误：{exc}", err=True)
            sys.exit(1)
        except OSError as exc:
            click.echo(f"错误：无法读写文件 {exc.filename or ''}：{exc.strerror or exc}", err=True)
            sys.exit(1)

    return wrapper


def _paths(func: Callable[..., Any]) -> Callable[..., Any]:
    """Options every command shares."""
    func = click.option("--today", help="按此日期检查和生成（YYYY-MM-DD），默认今天")(func)
    func = click.option("--config", "config", default="site_config.yml", type=click.Path(path_type=Path),
                        show_default=True, help="站点设置文件")(func)  # fmt: skip
    func = click.option("--content", default="content", type=click.Path(path_type=Path),
                        show_default=True, help="内容目录")(func)  # fmt: skip
    return func


@click.group()
def main() -> None:
    """人社服务大厅政务公开门户：检查内容、生成网站、本地预览。"""


@main.command()
@_paths
@click.option("--out", default="site", type=click.Path(path_type=Path), show_default=True, help="已发布网站目录")
@_guarded
def check(content: Path, config: Path, today: str | None, out: Path) -> None:
    """检查内容：列出全部错误和警告（有错误时退出码为 1）。"""
    result = pipeline.check(content, config, _today(today, config), out)
    _print_problems(result.errors + result.warnings)
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
@_guarded
def build(content: Path, config: Path, today: str | None, out: Path, keep_markdown: Path | None, timings: bool) -> None:
    """先检查，再生成网站；失败时原网站保持不变。"""
    report = pipeline.build(content, config, out, _today(today, config), keep_markdown)
    _print_problems(report.warnings)
    click.echo(f"已生成 {out}：{report.services} 个事项，{report.pages} 个页面，用时 {report.seconds:.1f} 秒。")
    if timings:
        stages = "，".join(f"{name} {seconds:.1f} 秒" for name, seconds in report.stages.items())
        click.echo(f"各阶段：{stages}；峰值内存 {report.peak_mib} MiB（搜索索引进程 {report.search_peak_mib} MiB）。")


@main.command()
@_paths
@click.option("--out", default="site", type=click.Path(path_type=Path), show_default=True, help="网站目录")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, type=int, show_default=True)
@click.option("--static-only", is_flag=True, help="只提供静态网站，不启动在线表单和工作人员后台")
@_guarded
def serve(content: Path, config: Path, today: str | None, out: Path, host: str, port: int, static_only: bool) -> None:
    """在本机提供网站和在线表单、工作人员后台（同一地址）。"""
    if static_only:
        serve_site(out, host, port)
        return
    serve_app(content, config, out, host, port)


@main.command()
@_paths
@click.option("--out", default="site", type=click.Path(path_type=Path), show_default=True, help="输出目录")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, type=int, show_default=True)
@_guarded
def preview(content: Path, config: Path, today: str | None, out: Path, host: str, port: int) -> None:
    """编辑预览：提供网站，内容一有改动就重新检查和生成。"""

    def rebuild() -> None:
        try:
            report = pipeline.build(content, config, out, _today(today, config))
        except ContentError as exc:
            _print_problems(exc.problems)
            click.echo(f"发现 {len(exc.problems)} 处错误，预览仍显示上一次成功生成的网站。", err=True)
            return
        except PortalError as exc:
            click.echo(f"错误：{exc}", err=True)
            return
        _print_problems(report.warnings)
        click.echo(f"已重新生成：{report.services} 个事项，用时 {report.seconds:.1f} 秒。")

    preview_site(out, host, port, watch=[content, config], rebuild=rebuild)


def _register_backend_commands() -> None:
    """Backend commands live with the backend; the `portal` group gathers them."""
    from forms_api.cli import purge, stats, user

    main.add_command(user)
    main.add_command(stats)
    main.add_command(purge)


_register_backend_commands()
