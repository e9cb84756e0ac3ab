"""submission digest: a reused form token or Idempotency-Key must carry the same content to see the first receipt

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("cases", "evaluations"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("submission_digest", sa.String(length=64), nullable=True))


def downgrade() -> None:
    for table in ("evaluations", "cases"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("submission_digest")
