"""What a running Killick process holds once: settings, database, caches, keys.

Built at start-up, so that no request derives a key, reads a file or opens an engine.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from killick.catalog import AssetCatalog
from killick.db import create_engine, session_factory
from killick.encryption import SeedCipher
from killick.settings import Settings


@dataclass
class Context:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    catalog: AssetCatalog
    cipher: SeedCipher

    @classmethod
    def build(cls, settings: Settings, engine: AsyncEngine | None = None) -> Context:
        engine = engine or create_engine(settings.DATABASE_URL)
        sessions = session_factory(engine)
        return cls(
            settings=settings,
            engine=engine,
            sessions=sessions,
            catalog=AssetCatalog(sessions, settings.CONFIG_RECHECK_SECONDS),
            cipher=SeedCipher(settings.encryption_secrets()),
        )
