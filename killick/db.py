"""Database engine and sessions: SQLite file by default, PostgreSQL for production.

``DATABASE_URL`` may be written the plain way (``sqlite:///killick.db``,
``postgresql://user@host/db``); Killick picks the async driver itself. SQLite runs in
WAL mode with a busy timeout so a server and a worker can share one file.
"""

from __future__ import annotations

import logging

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

SQLITE_BUSY_TIMEOUT_MS = 10_000

# aiosqlite logs every statement with its parameters at DEBUG: addresses, bank details.
# Killick's logs must stay free of them whatever level an operator chooses.
logging.getLogger("aiosqlite").setLevel(logging.INFO)


def async_url(url: str) -> str:
    """Rewrite a database URL to name the async driver Killick uses for it."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif backend in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def _configure_sqlite(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_engine(url: str, **kwargs: object) -> AsyncEngine:
    """Create the async engine for ``url`` with Killick's connection settings."""
    full_url = async_url(url)
    kwargs.setdefault("hide_parameters", True)  # SQL logging never shows the values
    if full_url.startswith("sqlite"):
        kwargs.pop("pool_size", None)  # SQLite's pool keeps one connection per thread
        engine = create_async_engine(full_url, **kwargs)  # type: ignore[arg-type]
        event.listen(engine.sync_engine, "connect", _configure_sqlite)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(full_url, **kwargs)  # type: ignore[arg-type]


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions keep loaded objects usable after commit (hooks read them afterwards)."""
    return async_sessionmaker(engine, expire_on_commit=False)
