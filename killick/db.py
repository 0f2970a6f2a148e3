"""Database engine and sessions: SQLite file by default, PostgreSQL for production.

``DATABASE_URL`` may be written the plain way (``sqlite:///killick.db``,
``postgresql://user@host/db``); Killick picks the async driver itself. SQLite runs in
WAL mode with a busy timeout so a server and a worker can share one file; a
read-then-write that must be atomic (a lease claim) runs in ``write_transaction``.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import Engine, event
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


# One lock per engine (one SQLite file in this process) and event loop: see write_transaction.
_write_locks: weakref.WeakKeyDictionary[Engine, tuple[asyncio.AbstractEventLoop, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


def _write_lock(engine: Engine) -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    held = _write_locks.get(engine)
    if held is None or held[0] is not loop:
        held = (loop, asyncio.Lock())
        _write_locks[engine] = held
    return held[1]


@asynccontextmanager
async def write_transaction(session: AsyncSession) -> AsyncIterator[None]:
    """Hold the database's write lock from the first read of the block to its commit.

    For a read-then-write that must be atomic, such as a lease claim. PostgreSQL needs
    nothing (``FOR UPDATE SKIP LOCKED`` does it per row). SQLite has no row locks, and a
    plain transaction reads first and takes the write lock only at its first write, so
    concurrent claimers all read the same free rows and all but one come back empty.
    On SQLite the block runs in ``BEGIN IMMEDIATE``, which serialises claimers of every
    process sharing the file, behind an asyncio lock that queues this process's own
    claimers without SQLite's busy handler (which sleeps up to 100 ms a try). The block
    must commit; on an error it is rolled back. A session that has already written holds
    the write lock: its block simply runs on (nesting never waits for itself).
    """
    if session.get_bind().dialect.name != "sqlite":
        yield
        return
    await session.flush()  # pending changes are writes: they take the lock themselves
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    if raw.driver_connection.in_transaction:  # type: ignore[union-attr]
        yield
        return
    async with _write_lock(connection.sync_engine):
        await connection.exec_driver_sql("BEGIN IMMEDIATE")
        ours = session.sync_session.get_transaction()
        try:
            yield
        except BaseException:
            await session.rollback()
            raise
        if ours is not None and session.sync_session.get_transaction() is ours:
            await session.rollback()  # never leave SQLite's write lock held past the block
            raise RuntimeError("a write_transaction block must commit before it ends")


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
