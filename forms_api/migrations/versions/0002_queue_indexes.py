"""queue indexes: a window lead's windows and the open-cases-by-deadline order are answered from indexes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 15:40:00
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index("ix_cases_office_window", ["office", "window"], unique=False)
        batch_op.create_index("ix_cases_state_deadline", ["state", "deadline"], unique=False)
        batch_op.create_index("ix_cases_kind", ["kind"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_kind")
        batch_op.drop_index("ix_cases_state_deadline")
        batch_op.drop_index("ix_cases_office_window")
