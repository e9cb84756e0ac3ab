"""Operations the `portal` command runs on the backend outside a request: accounts, the sweep, purge, statistics."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

from flask import Flask

from core.catalogue import Catalogue
from core.stats import Stats
from core.vocab import STAFF_ROLES
from forms_api import create_app, dao, people, retention, states, workflow
from forms_api import stats as figures
from forms_api.db import transaction
from forms_api.errors import Conflict, InvalidInput, TransitionRefused
from forms_api.models import to_local
from forms_api.views import engine_context, today


def open_backend(content: Path, config: Path, site: Path | None = None) -> Flask:
    """The app with its settings, storage and catalogue, as a command needs it."""
    overrides = {"PORTAL_CONTENT": str(content), "PORTAL_SITE_CONFIG": str(config)}
    if site is not None:
        overrides["PORTAL_SITE_DIR"] = str(site)
    return create_app(overrides)


def check_windows(app: Flask, windows: tuple[str, ...]) -> None:
    """Every window a window lead is given must exist in the content."""
    known = {f"{t.office}:{t.window}" for t in app.extensions["targets"].values() if t.key.startswith("window:")}
    unknown = [w for w in windows if w not in known]
    if unknown:
        raise InvalidInput(f"没有这些窗口：{'、'.join(unknown)}；可用：{'、'.join(sorted(known))}")


def add_user(
    app: Flask, name: str, role: str, windows: list[str], password: str | None, real_name: str | None, badge: str | None
) -> tuple[str, str]:
    """Create an account with its real name and 工号 (a 工号 in the content's staff list brings its name there);
    returns its password (generated when none is given) and how the account reads on pages."""
    directory = {member.number: member.name for member in app.extensions["catalogue"].staff}
    with transaction(app.extensions["sessions"]) as session:
        password = dao.add_user(session, name, role, windows, password, real_name=real_name, badge=badge,
                                directory=directory)  # fmt: skip
        return password, people.staff_label(session, name)


def list_users(app: Flask) -> list[tuple[str, str, str, str, str, str]]:
    """Every account as `portal user list` shows it: 用户名, 姓名, 工号, 角色, 负责窗口, 状态."""
    catalogue = app.extensions["catalogue"]
    with app.extensions["sessions"]() as session:
        return [
            (user.username, user.real_name or "—", user.badge or "—", STAFF_ROLES.get(user.role, user.role),
             "、".join(_window(catalogue, w) for w in user.windows or []) or "—",
             "启用" if user.active else "停用")
            for user in dao.list_users(session)
        ]  # fmt: skip


def _window(catalogue: Catalogue, key: str) -> str:
    """「青溪县人力资源和社会保障服务大厅 1 号就业登记窗口」 for "county-hall:1"."""
    office, _, number = key.partition(":")
    return people.window_label(catalogue, office, number or None)


def set_identity(app: Flask, name: str, real_name: str | None, badge: str | None) -> str:
    """Give an existing account its real name and 工号; returns how it now reads on pages."""
    directory = {member.number: member.name for member in app.extensions["catalogue"].staff}
    with transaction(app.extensions["sessions"]) as session:
        user = dao.set_identity(session, name, real_name, badge, directory)
        return people.user_label(user)


def set_active(app: Flask, name: str, active: bool) -> str:
    """Disable or enable an account; returns its stored user name."""
    with transaction(app.extensions["sessions"]) as session:
        return dao.set_active(session, name, active).username


def reset_password(app: Flask, name: str, password: str | None) -> str:
    """Give an account a new password and end its sessions; returns the password."""
    with transaction(app.extensions["sessions"]) as session:
        return dao.reset_password(session, name, password)


def purge(app: Flask) -> tuple[int, int]:
    """Anonymise finished cases past the retention period: (how many, the period in days)."""
    days = app.extensions["catalogue"].config.retention_days
    with transaction(app.extensions["sessions"]) as session:
        return retention.purge(session, days), days


def local_today(app: Flask) -> date:
    """Today in the hall's time zone."""
    with app.app_context():
        return today()


def sweep(app: Flask, day: date | None = None) -> tuple[list[str], int]:
    """Close every replied case whose 复督 window is over: one transaction and one audit row per case, so a
    failure midway keeps what was done, and a second run finds nothing left. Cases stored before every step had
    a deadline get theirs first. Returns the closed cases' receipt numbers and how many cases got dates."""
    dated = _date_old_cases(app, day)
    closed = []
    with app.app_context(), app.extensions["sessions"]() as reader:
        ids = dao.cases_past_appeal(reader, day or today())
    for case_id in ids:
        try:
            with app.app_context(), transaction(app.extensions["sessions"]) as session:
                case = dao.get_case(session, case_id)
                if case is None or case.state != "replied":
                    continue  # the complainant answered meanwhile
                ctx = replace(engine_context(session), today=day or today())
                workflow.apply(session, case, "expire", workflow.SYSTEM, ctx)
                closed.append(case.receipt_no)
        except (Conflict, TransitionRefused):
            continue  # someone acted on it at this very moment: it is no longer waiting
    return closed, dated


def _date_old_cases(app: Flask, day: date | None) -> int:
    """The deadline of the step each undated open case is at, and a replied one's 复督 window, counted from its
    last move (an upgrade from before procedure.yml: without them such cases could never be overdue or closed)."""
    with app.app_context(), transaction(app.extensions["sessions"]) as session:
        ctx = replace(engine_context(session), today=day or today())
        cases = dao.cases_without_dates(session)
        zone = app.extensions["catalogue"].config.timezone
        for case in cases:
            since = to_local(case.events[-1].at if case.events else case.created_at, zone).date()
            if case.deadline is None:
                case.deadline = ctx.due(getattr(ctx.procedure, states.STEP[case.state]), since)
            if case.state == "replied" and case.appeal_until is None:
                case.appeal_until = ctx.due(ctx.procedure.appeal, since)
        return len(cases)


def export_stats(app: Flask) -> Stats:
    """Monthly figures without personal data, checked against the statistics contract."""
    with app.app_context(), app.extensions["sessions"]() as session:
        return figures.export(session, app.extensions["catalogue"], today())
