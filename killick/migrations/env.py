"""Alembic environment: Killick runs migrations on a connection it opens itself."""

from __future__ import annotations

from alembic import context

from killick.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `killick migrate` (killick.migrate.migrate)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
