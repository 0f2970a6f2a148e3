"""The worker runner: a loop that did work wakes the loops it may have given work to."""

from __future__ import annotations

import asyncio

from killick.context import Context
from killick.workers import WAKES, build_worker
from killick.workers.runner import Worker
from tests.helpers import make_settings


class Producer:
    """Does one item of work on its first pass, then none."""

    name = "producer"

    def __init__(self) -> None:
        self.passes = 0

    async def run_once(self) -> int:
        self.passes += 1
        return 1 if self.passes == 1 else 0


class Consumer:
    """Records when it ran; stops the worker on its second pass."""

    name = "consumer"

    def __init__(self) -> None:
        self.runs: list[float] = []
        self.worker: Worker | None = None

    async def run_once(self) -> int:
        self.runs.append(asyncio.get_running_loop().time())
        if len(self.runs) == 2 and self.worker is not None:
            self.worker.stop()
        return 0


async def _second_run_after(wakes: dict[str, tuple[str, ...]], database_url: str) -> float:
    # A long poll: without a wake the consumer's second pass is 30 s away.
    context = Context.build(make_settings(DATABASE_URL=database_url, WORKER_POLL_SECONDS=30))
    try:
        consumer = Consumer()
        worker = Worker(context, [consumer, Producer()], "runner-test", wakes)
        consumer.worker = worker
        started = asyncio.get_running_loop().time()
        try:
            await asyncio.wait_for(worker.run(), timeout=3)
        except TimeoutError:
            return float("inf")
        return consumer.runs[1] - started
    finally:
        await context.close()
        await context.engine.dispose()


async def test_a_loop_that_did_work_wakes_the_loops_it_feeds(database_url) -> None:
    assert await _second_run_after({"producer": ("consumer",)}, database_url) < 3


async def test_without_a_wake_a_loop_waits_for_its_poll(database_url) -> None:
    assert await _second_run_after({}, database_url) == float("inf")


def test_every_wake_names_loops_the_worker_runs() -> None:
    worker = build_worker(Context.build(make_settings()), "names")
    names = {loop.name for loop in worker.loops}
    assert set(WAKES) <= names
    assert {target for targets in WAKES.values() for target in targets} <= names
