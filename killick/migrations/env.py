"""Alembic environment: Killick runs migrations on a connection it opens itself."""

from __future__ import annotations

from alembic import context

from killick.columns import Amount, UTCDateTime
from killick.models import Base


def render_item(type_: str, obj: object, autogen_context) -> str | bool:  # type: ignore[no-untyped-def]
    """Write Killick's column types as their plain storage types, so that old migrations
    never depend on today's Python code."""
    if type_ == "type" and isinstance(obj, Amount):
        return "sa.BigInteger()"
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `killick migrate` (killick.migrate.migrate)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    render_item=render_item,
)
with context.begin_transaction():
    context.run_migrations()
