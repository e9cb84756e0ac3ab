"""The backend's `portal` commands: staff accounts, statistics export and purge, as an operator runs them."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from portal.cli import main
from tests.conftest import ROOT


@pytest.fixture(autouse=True)
def _private_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'p.db'}")
    monkeypatch.setenv("PORTAL_INSTANCE", str(tmp_path / "i"))


def test_user_add_generates_a_password_once(runner: CliRunner) -> None:
    result = runner.invoke(main, ["user", "add", "lead", "--role", "window-lead", "--window", "county-hall:1",
                                  "--badge", "QX0117"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "已创建 lead（窗口负责人）：俞倩（工号 QX0117）。" in result.output and "密码：" in result.output
    assert "只显示这一次" in result.output
    again = runner.invoke(main, ["user", "add", "lead", "--role", "intake", "--badge", "QX0118"])
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
    result = runner.invoke(main, ["user", "add", "someone", "--badge", "QX0117", *args])
    assert result.exit_code != 0 and message in result.output


def test_disable_enable_and_reset_password(runner: CliRunner) -> None:
    assert runner.invoke(main, ["user", "add", "Clerk", "--role", "intake", "--badge", "QX0117"]).exit_code == 0
    disabled = runner.invoke(main, ["user", "disable", "CLERK"])  # any spelling names the account
    assert disabled.exit_code == 0 and "已停用 clerk，其所有登录会话已失效" in disabled.output
    enabled = runner.invoke(main, ["user", "enable", "clerk"])
    assert enabled.exit_code == 0 and "已恢复 clerk" in enabled.output
    reset = runner.invoke(main, ["user", "reset-password", "clerk"])
    assert reset.exit_code == 0 and "所有登录会话已失效。新密码：" in reset.output and "只显示这一次" in reset.output


@pytest.mark.parametrize("command", ["disable", "enable", "reset-password"])
def test_account_commands_name_an_unknown_user(runner: CliRunner, command: str) -> None:
    result = runner.invoke(main, ["user", command, "nobody"])
    assert result.exit_code == 1 and "错误：没有用户 nobody" in result.output


def test_purge_on_an_empty_database_says_nothing_was_due(runner: CliRunner) -> None:
    result = runner.invoke(main, ["purge"])
    assert result.exit_code == 0 and "已删除 0 件已办结案件的个人信息（保存期限 1095 天）" in result.output


def test_stats_export_writes_the_file_the_build_reads(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "stats.json"
    result = runner.invoke(main, ["stats", "export", "--out", str(out)])
    assert result.exit_code == 0 and "已导出 0 个月的统计" in result.output
    assert '"months": []' in out.read_text(encoding="utf-8")


def test_cases_sweep_closes_unanswered_replies_once(runner: CliRunner, tmp_path: Path) -> None:
    from forms_api import admin, create_app, db
    from forms_api.models import Case
    from tests.factories import make_case

    app = create_app({"PORTAL_CONTENT": str(ROOT / "content"), "PORTAL_SITE_CONFIG": str(ROOT / "site_config.yml")})
    sessions, vault = app.extensions["sessions"], app.extensions["vault"]
    old, fresh = make_case(sessions, vault, "expired").case, make_case(sessions, vault, "replied").case
    app.extensions["engine"].dispose()
    first = runner.invoke(main, ["cases", "sweep"])
    assert first.exit_code == 0 and f"已结案 1 件：复督申请期满未申请。受理编号：{old.receipt_no}" in first.output
    again = runner.invoke(main, ["cases", "sweep"])
    assert again.exit_code == 0 and "已结案 0 件" in again.output
    app = admin.open_backend(ROOT / "content", ROOT / "site_config.yml")
    with db.transaction(app.extensions["sessions"]) as session:
        closed, waiting = session.get_one(Case, old.id), session.get_one(Case, fresh.id)
        assert (closed.state, waiting.state) == ("closed", "replied")
        assert [e.action for e in closed.events][-1] == "expire" and [e.actor for e in closed.events][-1] == "系统"
    app.extensions["engine"].dispose()
    bad = runner.invoke(main, ["cases", "sweep", "--today", "2026-13-01"])
    assert bad.exit_code != 0 and "应写成 2026-01-31 的形式" in bad.output
    future = runner.invoke(main, ["cases", "sweep", "--today", "2099-01-01"])
    assert future.exit_code != 0 and "晚于今天" in future.output


def test_cases_from_before_the_procedure_get_their_deadlines(runner: CliRunner) -> None:
    from datetime import date

    from forms_api import admin, create_app, db
    from forms_api.models import Case
    from tests.factories import REGISTERED, make_case

    app = create_app({"PORTAL_CONTENT": str(ROOT / "content"), "PORTAL_SITE_CONFIG": str(ROOT / "site_config.yml")})
    sessions, vault = app.extensions["sessions"], app.extensions["vault"]
    received, replied = make_case(sessions, vault).case.id, make_case(sessions, vault, "replied").case.id
    with db.transaction(sessions) as session:  # as migration 0005 left them
        for case_id in (received, replied):
            old = session.get_one(Case, case_id)
            old.deadline, old.appeal_until = None, None
    app.extensions["engine"].dispose()
    app = admin.open_backend(ROOT / "content", ROOT / "site_config.yml")
    closed, dated = admin.sweep(app, date.today())
    assert dated == 2 and closed == []
    with app.extensions["sessions"]() as session:
        first, second = session.get_one(Case, received), session.get_one(Case, replied)
        assert first.deadline is not None and first.deadline > REGISTERED  # 2 working days from its last move
        assert second.appeal_until is not None and second.deadline is not None
    assert admin.sweep(app, date.today()) == ([], 0)
    app.extensions["engine"].dispose()


def test_user_set_gives_an_old_account_its_name_and_badge(runner: CliRunner) -> None:
    from forms_api import create_app, db
    from forms_api.models import User
    from tests.factories import make_user

    app = create_app({"PORTAL_CONTENT": str(ROOT / "content"), "PORTAL_SITE_CONFIG": str(ROOT / "site_config.yml")})
    make_user(app.extensions["sessions"], "old", "supervisor")  # as accounts were before names were required
    make_user(app.extensions["sessions"], "other", "intake")
    app.extensions["engine"].dispose()
    listed = runner.invoke(main, ["user", "set", "old", "--badge", "qx0105"])
    assert listed.exit_code == 0 and "赵敏（工号 QX0105）" in listed.output
    renamed = runner.invoke(main, ["user", "set", "old", "--badge", "QX9005", "--real-name", "李明"])
    assert renamed.exit_code == 0 and "李明（工号 QX9005）" in renamed.output
    again = runner.invoke(main, ["user", "set", "old", "--real-name", "李明明"])  # keeps its own 工号
    assert again.exit_code == 0 and "李明明（工号 QX9005）" in again.output
    taken = runner.invoke(main, ["user", "set", "other", "--badge", "QX9005", "--real-name", "王五"])
    assert taken.exit_code != 0 and "工号 QX9005 已属于账号 old" in taken.output
    unknown = runner.invoke(main, ["user", "set", "nobody", "--badge", "QX0105"])
    assert unknown.exit_code != 0 and "没有用户 nobody" in unknown.output
    app = create_app({"PORTAL_CONTENT": str(ROOT / "content"), "PORTAL_SITE_CONFIG": str(ROOT / "site_config.yml")})
    with db.transaction(app.extensions["sessions"]) as session:
        user = session.query(User).filter_by(username="old").one()
        assert (user.real_name, user.badge) == ("李明明", "QX9005")
    app.extensions["engine"].dispose()
