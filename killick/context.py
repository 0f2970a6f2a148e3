"""What a running Killick process holds once: settings, database, caches, keys.

Built at start-up, so that no request derives a key, reads a file or opens an engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from stellar_sdk import ServerAsync

from killick.catalog import AssetCatalog
from killick.db import create_engine, session_factory
from killick.encryption import SeedCipher
from killick.settings import Settings
from killick.stellar.horizon_client import HttpxAsyncClient


@dataclass
class Context:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    catalog: AssetCatalog
    cipher: SeedCipher
    _horizon: ServerAsync | None = field(default=None, repr=False)

    def horizon(self) -> ServerAsync:
        """One Horizon client per process (connection pool shared by all requests)."""
        if self._horizon is None:
            client = HttpxAsyncClient(request_timeout=self.settings.HORIZON_TIMEOUT_SECONDS)
            self._horizon = ServerAsync(self.settings.HORIZON_URI, client=client)
        return self._horizon

    async def close(self) -> None:
        if self._horizon is not None:
            await self._horizon.close()
            self._horizon = None

    @classmethod
    def build(cls, settings: Settings, engine: AsyncEngine | None = None) -> Context:
        engine = engine or create_engine(
            settings.DATABASE_URL, pool_size=settings.DATABASE_POOL_SIZE
        )
        sessions = session_factory(engine)
        return cls(
            settings=settings,
            engine=engine,
            sessions=sessions,
            catalog=AssetCatalog(sessions, settings.CONFIG_RECHECK_SECONDS),
            cipher=SeedCipher(settings.encryption_secrets()),
        )
