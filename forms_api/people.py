"""How people and places read on pages and print-outs: 「王丽娟（工号 QX0103）」 and
「青溪县人力资源和社会保障服务大厅 1 号就业登记窗口」, never a user name or an office id."""

from __future__ import annotations

from typing import cast

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from core.catalogue import Catalogue
from forms_api import dao, workflow
from forms_api.models import User
from forms_api.views import db_session

# Stored actors that are not accounts: an account that happens to bear such a name must not take their place.
NOT_ACCOUNTS = frozenset({workflow.SYSTEM.name, workflow.CITIZEN.name})


def user_label(user: User) -> str:
    """「王丽娟（工号 QX0103）」; an old account without a real name reads as its user name."""
    if not user.real_name:
        return user.username
    return f"{user.real_name}（工号 {user.badge}）" if user.badge else user.real_name


def staff_label(session: Session, username: str | None) -> str:
    """What people read for a stored actor: the account's real name and 工号, else the stored text as it is
    (「系统」, 「投诉人」, 「接口:…」, a 首问负责人 typed in by hand)."""
    if not username:
        return ""
    if username in NOT_ACCOUNTS:
        return username
    user = dao.find_user(session, username)
    return user_label(user) if user is not None else username


def window_label(catalogue: Catalogue, office_id: str | None, window_number: str | None) -> str:
    """「青溪县人力资源和社会保障服务大厅 1 号就业登记窗口」; ids no longer in the content are shown as they are."""
    if not office_id:
        return "—"
    office = next((o for o in catalogue.offices if o.id == office_id), None)
    if window_number is None:
        return office.name if office else office_id
    if office is None:
        return f"{office_id} {window_number} 号"
    window = next((w for w in office.windows if w.number == window_number), None)
    return f"{office.name} {window_number} 号{window.name if window else ''}"


def place(office_id: str | None, window_number: str | None = None) -> str:
    """window_label() with the app's catalogue."""
    return window_label(cast(Catalogue, current_app.extensions["catalogue"]), office_id, window_number)


def _staff_filter(who: User | str | None) -> str:
    """staff_label() for templates: an account, or a stored user name looked up once per request."""
    if isinstance(who, User):
        return user_label(who)
    cache: dict[str, str] = g.setdefault("staff_labels", {})
    key = who or ""
    if key not in cache:
        cache[key] = staff_label(db_session(), key)
    return cache[key]


def init_app(app: Flask) -> None:
    """Templates get `staff_label` and `place` as filters and as globals:
    `{{ order.issued_by|staff_label }}`, `{{ user|staff_label }}`, `{{ order.office|place(order.window) }}`."""
    for name, func in (("staff_label", _staff_filter), ("place", place)):
        app.add_template_filter(func, name)
        app.add_template_global(func, name)
