"""Helpers every blueprint's views share: the request's database session, app services, dates."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, g
from sqlalchemy.orm import Session

from forms_api.db import transaction
from forms_api.privacy import Vault
from generator.workdays import WorkCalendar


def db_session() -> Session:
    """One session per request, closed at teardown."""
    if "db" not in g:
        g.db = current_app.extensions["sessions"]()
    return g.db


def write() -> AbstractContextManager[Session]:
    """One write transaction on a fresh session: `with write() as s:` (commits, or rolls back on error)."""
    return transaction(current_app.extensions["sessions"])


def vault() -> Vault:
    """The app's encryption helper."""
    return current_app.extensions["vault"]


def calendar() -> WorkCalendar:
    """Working days for deadlines."""
    return current_app.extensions["calendar"]


def today() -> date:
    """Today in the hall's time zone."""
    zone = current_app.extensions["catalogue"].config.timezone
    return datetime.now(ZoneInfo(zone)).date()
