"""The asset catalog each process keeps in memory, and what is derived from it.

stellar.toml and SEP-6 /info are built once per configuration version and served from
memory. Every ``CONFIG_RECHECK_SECONDS`` at most, one cheap query reads the version row;
when another process (a second server worker, ``killick asset update``) changed the
assets, the catalog reloads and the derived documents are rebuilt on next use.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from killick.models import Asset, ConfigVersion


@dataclass
class Snapshot:
    """The assets of one configuration version and the documents built from them."""

    version: int
    assets: tuple[Asset, ...]
    _derived: dict[Any, Any] = field(default_factory=dict)
    _locks: dict[Any, asyncio.Lock] = field(default_factory=dict)

    def find(self, code: str) -> Asset | None:
        return next((a for a in self.assets if a.code == code), None)

    async def derived(self, key: Any, build: Callable[[], Awaitable[Any]]) -> Any:
        """``build()`` once per key for this version; concurrent callers share it."""
        if key in self._derived:
            return self._derived[key]
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            if key not in self._derived:
                self._derived[key] = await build()
        return self._derived[key]


class AssetCatalog:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], recheck_seconds: float = 2.0
    ) -> None:
        self._sessions = sessions
        self._recheck = recheck_seconds
        self._snapshot: Snapshot | None = None
        self._checked_at = 0.0
        self._lock = asyncio.Lock()

    async def current(self) -> Snapshot:
        """The up-to-date snapshot; hits the database at most once per recheck period."""
        now = time.monotonic()
        snapshot = self._snapshot
        if snapshot is not None and now - self._checked_at < self._recheck:
            return snapshot
        async with self._lock:
            if self._snapshot is not None and time.monotonic() - self._checked_at < self._recheck:
                return self._snapshot
            async with self._sessions() as session:
                version = (
                    await session.scalar(select(ConfigVersion.version).where(ConfigVersion.id == 1))
                    or 0
                )
                if self._snapshot is None or self._snapshot.version != version:
                    self._snapshot = await self._load(session, version)
            self._checked_at = time.monotonic()
            return self._snapshot

    def invalidate(self) -> None:
        """Force a version check on next use (after this process changed assets)."""
        self._checked_at = 0.0

    @staticmethod
    async def _load(session: AsyncSession, version: int) -> Snapshot:
        assets = (await session.scalars(select(Asset).order_by(Asset.code, Asset.id))).all()
        return Snapshot(version=version, assets=tuple(assets))
