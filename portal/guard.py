"""One guard for every `portal` subcommand: bad options, settings, folders or content become one Chinese line."""

from __future__ import annotations

import functools
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click

from core.errors import ContentError, PortalError, Problem


def print_problems(problems: list[Problem]) -> None:
    """Every problem as `path:line: message`, errors to stderr, warnings to stdout."""
    cwd = Path.cwd()
    for problem in problems:
        click.echo(problem.format(cwd), err=problem.severity == "error")


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one line to stderr and leave with `code`."""
    click.echo(f"错误：{message}", err=True)
    sys.exit(code)


def guarded(unchanged: str = "网站未更新") -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """No traceback ever reaches an editor or an operator: errors become a message and exit code 1.

    `unchanged` says what was left as it was when the content has errors."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return func(*args, **kwargs)
            except ContentError as exc:
                print_problems(exc.problems)
                click.echo(f"发现 {len(exc.problems)} 处错误，{unchanged}。", err=True)
                sys.exit(1)
            except PortalError as exc:
                fail(str(exc))
            except OSError as exc:
                fail(f"无法读写 {exc.filename or ''}：{exc.strerror or exc}")
            except (click.ClickException, click.exceptions.Exit, click.Abort):
                raise
            except KeyboardInterrupt:
                click.echo("已停止。")
            except Exception as exc:
                if os.environ.get("PORTAL_DEBUG") == "1":
                    raise
                fail(f"意外错误（{type(exc).__name__}），请设置 PORTAL_DEBUG=1 重新运行并把输出交给技术人员")

        return wrapper

    return decorate


def usage_message(exc: click.UsageError) -> str:
    """Click's own (English) usage errors, said in Chinese with the option they concern."""
    hint = ""
    if isinstance(exc, click.BadParameter | click.MissingParameter) and exc.param is not None:
        hint = "/".join(exc.param.opts) if isinstance(exc.param, click.Option) else exc.param.human_readable_name
    if isinstance(exc, click.NoSuchOption):
        close = f"，是不是想写 {exc.possibilities[0]}？" if exc.possibilities else ""
        return f"没有选项 {exc.option_name}{close}"
    if isinstance(exc, click.MissingParameter):
        return f"缺少 {hint or exc.param_hint}"
    if isinstance(exc, click.BadParameter):
        param_type = exc.param.type if exc.param is not None else None
        if isinstance(param_type, click.Choice):
            return f"{hint} 应为以下之一：{'、'.join(map(str, param_type.choices))}"
        if isinstance(param_type, click.types.IntParamType) and "valid integer" in exc.message:
            return f"{hint} 应为整数"
        if isinstance(param_type, click.IntRange):
            return f"{hint} 应在 {param_type.min} 到 {param_type.max} 之间"
        return f"{hint or exc.param_hint} {exc.message}".strip()
    if "No such command" in exc.message:
        return f"没有这个命令：{exc.message.split(chr(39))[1] if chr(39) in exc.message else exc.message}"
    if needs := re.search(r"'([^']+)' requires an argument", exc.message):
        return f"选项 {needs.group(1)} 后面要写一个值"
    return exc.message


class PortalGroup(click.Group):
    """A click group whose usage errors are one Chinese line, and whose commands all share the guard."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Run as click does, but say usage errors in Chinese on one line (exit 2)."""
        kwargs.pop("standalone_mode", None)
        try:
            return super().main(*args, standalone_mode=False, **kwargs)  # type: ignore[call-overload]
        except click.exceptions.NoArgsIsHelpError as exc:  # `portal`, `portal user`: the help, as click shows it
            click.echo(exc.ctx.get_help() if exc.ctx else "")
            sys.exit(0)
        except click.UsageError as exc:
            command = " ".join(["portal", *exc.ctx.command_path.split()[1:]]) if exc.ctx else "portal"
            fail(f"{usage_message(exc)}（用法见 {command} --help）", 2)
        except click.ClickException as exc:
            fail(exc.format_message())
        except click.Abort:
            fail("已取消")
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
