"""the complete complaint procedure: handlers, the 复督 window, 退单, 办件编号, absent B roles, staff names

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 19:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

COLUMNS: dict[str, list[sa.Column[object]]] = {
    "users": [sa.Column("real_name", sa.String(40)), sa.Column("badge", sa.String(20))],
    "cases": [
        sa.Column("assignee", sa.String(120)),
        sa.Column("appeal_until", sa.Date()),
        sa.Column("business_no", sa.String(40)),
    ],
    "supervision_orders": [
        sa.Column("returned_reason", sa.Text()),
        sa.Column("returned_by", sa.String(64)),
        sa.Column("returned_at", sa.DateTime(timezone=True)),
    ],
    "evaluations": [sa.Column("business_no", sa.String(40))],
    "absences": [sa.Column("role", sa.String(1), nullable=False, server_default="a")],
    "case_events": [sa.Column("detail", sa.Text())],
}


def upgrade() -> None:
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.add_column(column)
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_users_badge", ["badge"])  # one account per 工号
    # Rows from before: the tracking page showed their notes, so it still does.
    op.execute("UPDATE case_events SET detail = note")


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint("uq_users_badge", type_="unique")
    for table, columns in reversed(COLUMNS.items()):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in reversed(columns):
                batch_op.drop_column(column.name)
