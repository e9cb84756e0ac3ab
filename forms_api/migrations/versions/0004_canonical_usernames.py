"""canonical user names: accounts made before login compared one canonical form are rewritten to it

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 17:30:00
"""

from __future__ import annotations

import unicodedata

import sqlalchemy as sa
from alembic import op

from forms_api.errors import StorageError

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _canonical(name: str) -> str:
    """As forms_api.identity.username() at the time of this migration (kept here so the migration never changes)."""
    return unicodedata.normalize("NFKC", name).strip().casefold()


def upgrade() -> None:
    users = sa.table("users", sa.column("id", sa.Integer), sa.column("username", sa.String))
    connection = op.get_bind()
    rows = connection.execute(sa.select(users.c.id, users.c.username)).all()
    owners: dict[str, str] = {}
    for _id, name in rows:
        canonical = _canonical(name)
        if canonical in owners:
            raise StorageError(
                f"账号「{owners[canonical]}」和「{name}」登录时会被视为同一个用户名「{canonical}」："
                "请先停用或改名其中一个，再启动"
            )
        owners[canonical] = name
    for user_id, name in rows:
        if _canonical(name) != name:
            connection.execute(sa.update(users).where(users.c.id == user_id).values(username=_canonical(name)))


def downgrade() -> None:
    """The earlier spellings are not kept; canonical names work with the earlier code too."""
