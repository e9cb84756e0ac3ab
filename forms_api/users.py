"""Staff accounts: created from the command line only; there is no default account."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from forms_api import security
from forms_api.models import User
from forms_api.security import ROLES


class UserError(Exception):
    """A clear refusal to create an account."""


def add_user(session: Session, name: str, role: str, windows: list[str], password: str | None) -> str:
    """Create an account and return its password (generated when none is given)."""
    if role not in ROLES:
        raise UserError(f"角色须为 {'、'.join(ROLES)} 之一")
    if role == "window-lead" and not windows:
        raise UserError("窗口负责人须用 --window 指定负责的窗口，如 county-hall:1")
    if session.scalar(select(User).where(User.username == name)) is not None:
        raise UserError(f"用户 {name} 已存在")
    if password is not None and len(password) < 10:
        raise UserError("密码至少 10 位")
    password = password or secrets.token_urlsafe(12)
    session.add(User(username=name, password_hash=security.hasher.hash(password), role=role, windows=windows))
    return password
