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
from forms_api.models import to_local
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


def assignee(session: Session, office: str, window: str) -> str | None:
    """AB角: the post at this window is handled by its A, or by its B while the A is marked absent."""
    hall = content()
    absent = dao.absent_posts(session)
    for post in hall.posts:
        if post.office == office and window in post.windows:
            away = post.id in absent
            staff = hall.staff_member(post.b if away else post.a)
            return f"{staff.name}（{staff.number}，{post.name}{'B角' if away else 'A角'}）"
    return None


def engine_context(session: Session) -> Context:
    """What the case engine needs from the app: the calendar, today, the site's numbers, AB角 routing."""
    config = content().config
    numbers = {"resupervision_limit": config.resupervision_limit, "rectification_days": config.rectification_days}
    return Context(calendar(), today(), numbers, lambda office, window: assignee(session, office, window))
