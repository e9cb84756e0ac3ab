"""Operations the `portal` command runs on the backend outside a request: accounts, purge, statistics."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from core.stats import Stats
from forms_api import create_app, dao, retention
from forms_api import stats as figures
from forms_api.db import transaction
from forms_api.errors import InvalidInput
from forms_api.views import today


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


def add_user(app: Flask, name: str, role: str, windows: list[str], password: str | None) -> str:
    """Create an account; returns its password (generated when none is given)."""
    with transaction(app.extensions["sessions"]) as session:
        return dao.add_user(session, name, role, windows, password)


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


def export_stats(app: Flask) -> Stats:
    """Monthly figures without personal data, checked against the statistics contract."""
    with app.app_context(), app.extensions["sessions"]() as session:
        return figures.export(session, app.extensions["catalogue"], today())
