"""queue page: indexes in the queue's order, for everyone and per window, that answer a page on their own

The order is by deadline, cases without one last, then by arrival: `deadline NULLS LAST, created_at, id`
(PostgreSQL reads NULLS LAST from an ascending index as it is; SQLite walks the index twice, dated rows first).
The other columns the filters read ride along: a page's cases are found without reading the table, however deep
the page. The per-window index also counts a window lead's cases per state, and replaces (office, window), of
which it is a superset.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 20:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

ORDER = ["deadline", "created_at", "id", "state", "office", "window"]
WINDOW_ORDER = ["office", "window", "deadline", "created_at", "id", "state"]


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index("ix_cases_queue_order", ORDER, unique=False)
        batch_op.create_index("ix_cases_window_queue", WINDOW_ORDER, unique=False)
        batch_op.drop_index("ix_cases_office_window")


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index("ix_cases_office_window", ["office", "window"], unique=False)
        batch_op.drop_index("ix_cases_window_queue")
        batch_op.drop_index("ix_cases_queue_order")
