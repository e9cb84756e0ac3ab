"""Helpers every blueprint's views share: the request's database session, app services, dates, the engine."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import date, datetime
from typing import cast
from zoneinfo import ZoneInfo

from flask import current_app, g
from sqlalchemy.orm import Session

from core.catalogue import Catalogue
from core.workdays import WorkCalendar
from forms_api import dao
from forms_api.db import transaction
from forms_api.models import Case, to_local
from forms_api.privacy import Vault
from forms_api.workflow import Context


def db_session() -> Session:
    """One session per request, closed at teardown."""
    if "db" not in g:
        g.db = current_app.extensions["sessions"]()
    return cast(Session, g.db)


def write() -> AbstractContextManager[Session]:
    """One write transaction on a fresh session: `with write() as s:` (commits, or rolls back on error)."""
    return transaction(current_app.extensions["sessions"])


def content() -> Catalogue:
    """The content the app was started with."""
    return cast(Catalogue, current_app.extensions["catalogue"])


def vault() -> Vault:
    """The app's encryption helper."""
    return cast(Vault, current_app.extensions["vault"])


def calendar() -> WorkCalendar:
    """Working days for deadlines."""
    return cast(WorkCalendar, current_app.extensions["calendar"])


def today() -> date:
    """Today in the hall's time zone."""
    return datetime.now(ZoneInfo(content().config.timezone)).date()


def local_time(moment: datetime) -> str:
    """A stored UTC time as the hall reads it, with its offset: 2026-11-23 14:05 +08:00."""
    shown = to_local(moment, content().config.timezone)
    offset = shown.strftime("%z")
    return f"{shown:%Y-%m-%d %H:%M} {offset[:3]}:{offset[3:]}"


def assignee(session: Session, case: Case) -> str | None:
    """Who handles a case at its window: the post's A, or its B while the A is away; never the staff member
    the case names (then the post's other role, then the window lead); the 单位负责人 when nobody else is there."""
    hall = content()
    post = next((p for p in hall.posts if p.office == case.office and case.window in p.windows), None)
    if post is None:
        return None
    named = (case.target_ref or "").removeprefix("staff:") if (case.target_ref or "").startswith("staff:") else None
    absent = dao.absent_roles(session)
    for role in ("a", "b"):
        number = getattr(post, role)
        if number != named and (post.id, role) not in absent:
            staff = hall.staff_member(number)
            return f"{staff.name}（{staff.number}，{post.name}{role.upper()}角）"
    if named in (post.a, post.b):  # the other role is away too: the window lead, unless that is the person named
        lead = dao.window_lead(session, f"{case.office}:{case.window}", exclude_badge=named)
        if lead is not None:
            return f"{lead.real_name or lead.username}（{lead.badge or lead.username}，窗口负责人）"
    head = hall.staff_member(hall.head)
    return f"{head.name}（{head.number}，单位负责人）"


def engine_context(session: Session) -> Context:
    """What the case engine needs from the app: the calendar, today, the procedure's numbers, who handles."""
    return Context(calendar(), today(), content().procedure, lambda case: assignee(session, case))
