"""``killick worker``: every background loop of one process, side by side.

Each loop is an object with a ``name`` and ``async run_once() -> int`` (work done). The
runner calls it again at once while there is work, sleeps ``WORKER_POLL_SECONDS`` when
there is none, backs off after an error (logged with its traceback, never fatal), and
records a heartbeat per loop for /health and operators. A loop that did work wakes
the loops it may have given work to (``wakes``), so a deposit the rails poll found is
paid at once rather than at the settlement loop's next poll.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Mapping
from typing import Protocol

from sqlalchemy import update

from killick.columns import utcnow
from killick.context import Context
from killick.models import WorkerHeartbeat

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 5.0
MAX_BACKOFF_SECONDS = 60.0


class Loop(Protocol):
    name: str

    async def run_once(self) -> int: ...


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Worker:
    def __init__(
        self,
        context: Context,
        loops: list[Loop],
        worker_id: str,
        wakes: Mapping[str, tuple[str, ...]] | None = None,
    ) -> None:
        self.context = context
        self.loops = loops
        self.worker_id = worker_id
        self.wakes = dict(wakes or {})
        self._stopping = asyncio.Event()
        self._woken = {loop.name: asyncio.Event() for loop in loops}

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        log.info("worker %s starting loops: %s", self.worker_id, [loop.name for loop in self.loops])
        try:
            await asyncio.gather(*(self._run_loop(loop) for loop in self.loops))
        finally:
            for loop in self.loops:
                close = getattr(loop, "aclose", None)
                if close is not None:
                    await close()
        log.info("worker %s stopped", self.worker_id)

    async def _run_loop(self, loop: Loop) -> None:
        poll = self.context.settings.WORKER_POLL_SECONDS
        backoff = poll
        last_beat = 0.0
        woken = self._woken[loop.name]
        while not self._stopping.is_set():
            woken.clear()
            try:
                done = await loop.run_once()
                backoff = poll
            except Exception:
                log.exception("loop %s failed; retrying in %.1fs", loop.name, backoff)
                done = 0
                await self._sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                continue
            if done:
                for name in self.wakes.get(loop.name, ()):
                    if name in self._woken:
                        self._woken[name].set()
            now = asyncio.get_running_loop().time()
            if now - last_beat >= HEARTBEAT_SECONDS:
                last_beat = now
                await self._beat(loop.name, done)
            if done == 0:
                await self._sleep(poll, woken)

    async def _sleep(self, seconds: float, woken: asyncio.Event | None = None) -> None:
        """Sleep ``seconds``, or less when the worker stops or the loop is woken."""
        waits = [asyncio.ensure_future(self._stopping.wait())]
        if woken is not None:
            waits.append(asyncio.ensure_future(woken.wait()))
        try:
            await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()

    async def _beat(self, loop: str, done: int) -> None:
        try:
            async with self.context.sessions() as session:
                result = await session.execute(
                    update(WorkerHeartbeat)
                    .where(
                        WorkerHeartbeat.worker_id == self.worker_id, WorkerHeartbeat.loop == loop
                    )
                    .values(beat_at=utcnow(), detail=f"last pass: {done} item(s)")
                )
                if result.rowcount == 0:  # type: ignore[attr-defined]
                    session.add(
                        WorkerHeartbeat(worker_id=self.worker_id, loop=loop, detail="started")
                    )
                await session.commit()
        except Exception:
            log.exception("could not record the heartbeat of %s", loop)
