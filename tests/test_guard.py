"""One guard for every `portal` subcommand: bad options, settings, folders and databases give one Chinese line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from portal.cli import main

CHINESE = re.compile(r"[\u4e00-\u9fff]")
# (arguments, environment, what the one line must say); {tmp} is a private folder, {file} a plain file in it.
CASES = [
    (["check", "--today", "2026/1/1"], {}, "--today 日期应写成 2026-01-31 的形式"),
    (["check", "--bogus"], {}, "没有选项 --bogus"),
    (["build", "--out", "{file}/site"], {}, "无法读写"),
    (["build", "--today"], {}, "选项 --today 后面要写一个值"),
    (["serve", "--out", "{tmp}/none"], {}, "请先运行 portal build"),
    (["serve", "--port", "0"], {}, "--port 应在 1 到 65535 之间"),
    (["preview", "--port", "abc"], {}, "--port 应为整数"),
    (["user", "add", "someone"], {}, "缺少 --role"),
    (["user", "add", "someone", "--role", "intake"], {"DATABASE_URL": "nosuchdb://x"}, "DATABASE_URL"),
    (["user", "add", "someone", "--role", "intake"], {"DATABASE_URL": "sqlite:///{file}/p.db"}, "DATABASE_URL"),
    (["purge"], {"PORTAL_PROXIES": "abc"}, "PORTAL_PROXIES"),
    (["stats", "export", "--out", "{file}/stats.json"], {}, "无法读写"),
    (["stats", "publish"], {}, "没有这个命令"),
]


@pytest.mark.parametrize(("args", "env", "expected"), CASES, ids=[" ".join(c[0]) for c in CASES])
def test_bad_input_is_one_chinese_line(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], env: dict, expected: str
) -> None:
    (tmp_path / "plain.txt").write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'p.db'}")
    monkeypatch.setenv("PORTAL_INSTANCE", str(tmp_path / "i"))
    fill = {"tmp": str(tmp_path), "file": str(tmp_path / "plain.txt")}
    for name, value in env.items():
        monkeypatch.setenv(name, value.format(**fill))
    result = runner.invoke(main, [a.format(**fill) for a in args])
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code != 0
    assert len(lines) == 1, result.output
    assert expected in lines[0] and CHINESE.search(lines[0]) and lines[0].startswith("错误：")
    assert "Traceback" not in result.output and "Error:" not in result.output


def test_unexpected_errors_are_a_line_too(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    from generator import pipeline

    def broken(*_args: object) -> None:
        raise ZeroDivisionError

    monkeypatch.setattr(pipeline, "check", broken)
    result = runner.invoke(main, ["check"])
    assert result.exit_code == 1 and result.output.count("\n") == 1
    assert "意外错误（ZeroDivisionError）" in result.output and "PORTAL_DEBUG=1" in result.output


@pytest.mark.parametrize("args", [[], ["user"], ["stats"]])
def test_a_bare_group_shows_its_help(runner: CliRunner, args: list[str]) -> None:
    result = runner.invoke(main, args)
    assert result.exit_code == 0 and result.output.startswith("Usage:") and "错误：" not in result.output
