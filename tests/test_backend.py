"""The backend's `portal` commands: staff accounts, statistics export and purge, as an operator runs them."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from portal.cli import main


@pytest.fixture(autouse=True)
def _private_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'p.db'}")
    monkeypatch.setenv("PORTAL_INSTANCE", str(tmp_path / "i"))


def test_user_add_generates_a_password_once(runner: CliRunner) -> None:
    result = runner.invoke(main, ["user", "add", "lead", "--role", "window-lead", "--window", "county-hall:1"])
    assert result.exit_code == 0, result.output
    assert "已创建 lead（窗口负责人）。密码：" in result.output and "只显示这一次" in result.output
    again = runner.invoke(main, ["user", "add", "lead", "--role", "intake"])
    assert again.exit_code == 1 and "用户 lead 已存在" in again.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "admin"], "--role 应为以下之一：intake、supervisor、window-lead、auditor"),
        (["--role", "window-lead"], "窗口负责人须用 --window 指定"),
        (["--role", "window-lead", "--window", "county-hall:99"], "没有这些窗口：county-hall:99"),
    ],
)
def test_user_add_refusals(runner: CliRunner, args: list[str], message: str) -> None:
    result = runner.invoke(main, ["user", "add", "someone", *args])
    assert result.exit_code != 0 and message in result.output


def test_purge_on_an_empty_database_says_nothing_was_due(runner: CliRunner) -> None:
    result = runner.invoke(main, ["purge"])
    assert result.exit_code == 0 and "已删除 0 件已办结案件的个人信息（保存期限 1095 天）" in result.output


def test_stats_export_writes_the_file_the_build_reads(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "stats.json"
    result = runner.invoke(main, ["stats", "export", "--out", str(out)])
    assert result.exit_code == 0 and "已导出 0 个月的统计" in result.output
    assert '"months": []' in out.read_text(encoding="utf-8")
