"""Alembic environment: the app passes its connection in; the models' metadata is the target."""

from __future__ import annotations

from alembic import context

from forms_api.models import Base

connection = context.config.attributes.get("connection")
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
