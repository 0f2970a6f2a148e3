"""Shared fixtures: settings, and a migrated database on SQLite and on PostgreSQL.

Every test that asks for ``database_url`` (or anything built on it) runs twice: on a
fresh SQLite file and on a PostgreSQL database made for this test session. PostgreSQL is
found at ``KILLICK_TEST_POSTGRES_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``);
when it is unreachable those runs are skipped and say so, unless
``KILLICK_REQUIRE_POSTGRES=1`` (CI), which turns that into a failure.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from killick.app import create_app
from killick.db import create_engine, session_factory
from killick.encryption import SeedCipher
from killick.integrations import reset_integrations
from killick.migrate import migrate
from killick.models import Base
from killick.settings import Settings
from tests.helpers import JWT_KEY, make_settings

POSTGRES_URL = os.environ.get(
    "KILLICK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REQUIRE_POSTGRES = os.environ.get("KILLICK_REQUIRE_POSTGRES") == "1"


@pytest.fixture
def settings_factory():
    return make_settings


@pytest.fixture(autouse=True)
def _fresh_integrations() -> Iterator[None]:
    reset_integrations()
    yield
    reset_integrations()


# -- databases -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each test (migrating is the slow part)."""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    asyncio.run(migrate(f"sqlite:///{path}"))
    return path


async def _postgres_reachable() -> str | None:
    try:
        connection = await asyncpg.connect(POSTGRES_URL, timeout=3)
    except (TimeoutError, OSError, asyncpg.PostgresError) as error:
        return f"{type(error).__name__}: {error}"
    await connection.close()
    return None


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A database of its own for this test session, migrated once, dropped at the end."""
    problem = asyncio.run(_postgres_reachable())
    if problem is not None:
        message = f"PostgreSQL at {POSTGRES_URL} is unreachable ({problem})"
        if REQUIRE_POSTGRES:
            pytest.fail(message + " and KILLICK_REQUIRE_POSTGRES=1", pytrace=False)
        pytest.skip(message + "; PostgreSQL runs skipped")
    name = f"killick_test_{os.getpid()}"

    async def admin(statement: str) -> None:
        connection = await asyncpg.connect(POSTGRES_URL)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(admin(f"DROP DATABASE IF EXISTS {name}"))
    asyncio.run(admin(f"CREATE DATABASE {name}"))
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    asyncio.run(migrate(url))
    yield url
    asyncio.run(admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


async def _empty_postgres(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    async with engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        await connection.execute(text("INSERT INTO config_version (id, version) VALUES (1, 1)"))
    await engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database: a copy of the SQLite template, or the PostgreSQL one."""
    if request.param == "sqlite":
        path = tmp_path / "killick.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres_database")
    asyncio.run(_empty_postgres(url))
    return url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)


@pytest.fixture
async def session(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with sessions() as session:
        yield session


@pytest.fixture
def cipher() -> SeedCipher:
    return SeedCipher([JWT_KEY])


# -- the app -------------------------------------------------------------------------------


@pytest.fixture
def settings(database_url: str) -> Settings:
    # These apps serve many transfers to one test client in seconds; the transfer rate
    # limit has its own tests (test_hardening_limits.py).
    return make_settings(DATABASE_URL=database_url, RATE_LIMIT_TRANSFERS=0)


@pytest.fixture
def app(settings: Settings, engine: AsyncEngine):
    return create_app(settings, engine=engine)


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client
