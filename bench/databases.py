"""Fresh, migrated databases for each scenario, on SQLite or PostgreSQL, removed after.

SQLite: a migrated template file copied per scenario. PostgreSQL: a template database
migrated once, then ``CREATE DATABASE ... TEMPLATE`` per scenario (fast); every database
this run created is dropped at the end, even after a failure.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from killick.migrate import migrate

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


def postgres_admin_url() -> str:
    return os.environ.get("KILLICK_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL)


class Databases:
    def __init__(self, kind: str, workdir: Path) -> None:
        if kind not in ("sqlite", "postgresql"):
            raise ValueError(f"unknown database kind {kind!r}")
        self.kind = kind
        self.workdir = workdir
        self.prefix = f"killick_bench_{os.getpid()}"
        self.created: list[str] = []
        self.admin_url = postgres_admin_url()

    async def _admin(self, statement: str) -> None:
        connection = await asyncpg.connect(self.admin_url, timeout=10)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    def _url(self, database: str) -> str:
        return make_url(self.admin_url).set(database=database).render_as_string(hide_password=False)

    async def prepare(self) -> None:
        """Migrate the template once."""
        if self.kind == "sqlite":
            await migrate(f"sqlite:///{self.workdir / 'template.db'}")
            return
        template = f"{self.prefix}_template"
        await self._admin(f"DROP DATABASE IF EXISTS {template}")
        await self._admin(f"CREATE DATABASE {template}")
        self.created.append(template)
        await migrate(self._url(template))

    async def fresh(self, name: str) -> str:
        """A new migrated, empty database for one scenario; returns its URL."""
        if self.kind == "sqlite":
            path = self.workdir / f"{name}.db"
            await asyncio.to_thread(shutil.copy, self.workdir / "template.db", path)
            return f"sqlite:///{path}"
        database = f"{self.prefix}_{name}"
        await self._admin(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        await self._admin(f"CREATE DATABASE {database} TEMPLATE {self.prefix}_template")
        self.created.append(database)
        return self._url(database)

    async def cleanup(self) -> None:
        if self.kind == "sqlite":
            return  # the scratch directory goes with the run
        for database in reversed(self.created):
            try:
                await self._admin(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
            except (OSError, asyncpg.PostgresError) as error:
                print(f"could not drop {database}: {error}")
        self.created.clear()


async def postgres_problem() -> str | None:
    """Why PostgreSQL cannot be used, or None when it answers."""
    try:
        connection = await asyncpg.connect(postgres_admin_url(), timeout=3)
    except (TimeoutError, OSError, asyncpg.PostgresError) as error:
        return f"{type(error).__name__}: {error}"
    await connection.close()
    return None
