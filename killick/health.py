"""``GET /health``: is the database reachable, is Horizon, is each worker loop beating.

Cheap on purpose, for monitors that call it every few seconds: one ``SELECT 1``, one
small ``GROUP BY`` over ``worker_heartbeat``, and Horizon's root fetched at most once per
``HEALTH_HORIZON_CACHE_SECONDS`` with a short timeout (shared with ``/metrics``).
200 ``{"status": "ok", "checks": {...}}`` when all is well, 503 with the same shape,
``"status": "down"`` and the failing checks marked, when not.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from killick.columns import utcnow
from killick.context import Context
from killick.models import WorkerHeartbeat

log = logging.getLogger(__name__)

router = APIRouter()


@dataclass(frozen=True)
class HorizonState:
    """What Horizon's root said, or why it could not be read."""

    reachable: bool
    latest_ledger: int | None = None
    error: str | None = None


class HorizonProbe:
    """Horizon's root document, fetched at most once per ``cache_seconds`` per process."""

    def __init__(self, uri: str, *, timeout: float, cache_seconds: float) -> None:
        self.uri = uri
        self.timeout = timeout
        self.cache_seconds = cache_seconds
        self._state: HorizonState | None = None
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    async def state(self) -> HorizonState:
        async with self._lock:  # concurrent checks share one request
            if self._state is None or time.monotonic() - self._fetched_at >= self.cache_seconds:
                self._state = await self._fetch()
                self._fetched_at = time.monotonic()
            return self._state

    async def _fetch(self) -> HorizonState:
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                response = await client.get(self.uri + "/")
        except httpx.HTTPError as error:
            return HorizonState(False, error=f"unreachable ({type(error).__name__})")
        if response.status_code != 200:
            return HorizonState(False, error=f"HTTP {response.status_code}")
        try:
            body = response.json()
            latest = body.get("history_latest_ledger") or body.get("core_latest_ledger")
        except (ValueError, AttributeError):
            return HorizonState(False, error="answered something that is not Horizon's root")
        return HorizonState(True, latest_ledger=int(latest) if latest is not None else None)


def horizon_probe(request: Request) -> HorizonProbe:
    """The app's probe, made on first use."""
    probe = getattr(request.app.state, "horizon_probe", None)
    if probe is None:
        settings = request.app.state.killick.settings
        probe = HorizonProbe(
            settings.HORIZON_URI,
            timeout=settings.HEALTH_HORIZON_TIMEOUT_SECONDS,
            cache_seconds=settings.HEALTH_HORIZON_CACHE_SECONDS,
        )
        request.app.state.horizon_probe = probe
    return probe


async def last_beats(session: AsyncSession) -> dict[str, tuple[datetime, int]]:
    """Per worker loop: its freshest heartbeat (any worker) and how many workers run it."""
    rows = await session.execute(
        select(WorkerHeartbeat.loop, func.max(WorkerHeartbeat.beat_at), func.count()).group_by(
            WorkerHeartbeat.loop
        )
    )
    return {loop: (beat_at, count) for loop, beat_at, count in rows.all()}


async def check(context: Context, probe: HorizonProbe) -> tuple[bool, dict[str, Any]]:
    """Every check: (all ok, details)."""
    settings = context.settings
    checks: dict[str, Any] = {}
    beats: dict[str, tuple[datetime, int]] | None = None
    try:
        async with context.sessions() as session:
            await asyncio.wait_for(session.execute(text("SELECT 1")), timeout=5)
            checks["database"] = {"status": "ok"}
            beats = await last_beats(session)
    except Exception as error:  # any failure to reach it is "down", never a 500
        log.warning("health: database unreachable (%s)", type(error).__name__)
        checks["database"] = {"status": "down", "error": type(error).__name__}

    horizon = await probe.state()
    checks["horizon"] = (
        {"status": "ok", "latest_ledger": horizon.latest_ledger}
        if horizon.reachable
        else {"status": "down", "error": horizon.error}
    )

    if beats is None:
        checks["workers"] = {"status": "unknown", "error": "database unreachable"}
    elif not beats:
        checks["workers"] = {"status": "down", "error": "no worker has recorded a heartbeat"}
    else:
        now = utcnow()
        max_age = settings.HEALTH_HEARTBEAT_MAX_AGE_SECONDS
        loops = {}
        for loop, (beat_at, workers) in sorted(beats.items()):
            age = round((now - beat_at).total_seconds(), 1)
            loops[loop] = {
                "status": "ok" if age <= max_age else "down",
                "last_beat": beat_at.isoformat(),
                "age_seconds": age,
                "workers": workers,
            }
        down = [loop for loop, state in loops.items() if state["status"] != "ok"]
        checks["workers"] = {"status": "down" if down else "ok", "loops": loops}
        if down:
            checks["workers"]["error"] = f"no heartbeat within {max_age:g}s: {', '.join(down)}"
    healthy = all(item["status"] == "ok" for item in checks.values())
    return healthy, checks


@router.get("/health", include_in_schema=False)
async def health(request: Request) -> JSONResponse:
    healthy, checks = await check(request.app.state.killick, horizon_probe(request))
    return JSONResponse(
        {"status": "ok" if healthy else "down", "checks": checks},
        status_code=200 if healthy else 503,
        headers={"Cache-Control": "no-store"},
    )
