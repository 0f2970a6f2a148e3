"""A light load generator: one asyncio process, httpx keep-alive connections, fixed
concurrency, bounded in time. It reports its own CPU share so a reader can tell when
the client, not the server, was the limit.

An operation is an async function ``op(client, n) -> bool`` (True when the answer was the
expected one); it may make several requests (the SEP-10 round trip makes two and signs
in between: that signing is counted in the generator's CPU share).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any

import httpx

Operation = Callable[[httpx.AsyncClient, int], Awaitable[bool]]


@dataclass
class LoadResult:
    name: str
    operations: int
    errors: int
    seconds: float
    per_second: float
    p50_ms: float
    p99_ms: float
    client_cpu_share: float  # the generator's CPU time / wall time (1.0 = one core)
    concurrency: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted list (0 for an empty one)."""
    if not sorted_values:
        return 0.0
    rank = max(0, min(len(sorted_values) - 1, round(fraction * len(sorted_values)) - 1))
    return sorted_values[rank]


async def run_load(
    name: str,
    base_url: str,
    op: Operation,
    *,
    concurrency: int,
    seconds: float,
    warmup: float,
    request_timeout: float = 30.0,
) -> LoadResult:
    """Run ``op`` from ``concurrency`` workers for ``warmup`` + ``seconds``; only the
    operations that start after the warm-up count. Stops by itself."""
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    latencies: list[float] = []
    errors = 0
    counter = 0
    loop = asyncio.get_running_loop()
    start = loop.time()
    measure_from = start + warmup
    stop_at = measure_from + seconds
    cpu_mark: list[float] = []

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal errors, counter
        while True:
            began = loop.time()
            if began >= stop_at:
                return
            counter += 1
            try:
                ok = await op(client, counter)
            except httpx.HTTPError:
                ok = False
            ended = loop.time()
            if began >= measure_from:
                latencies.append(ended - began)
                errors += not ok

    async def mark_cpu() -> None:
        await asyncio.sleep(max(0.0, measure_from - loop.time()))
        cpu_mark.append(time.process_time())

    # One keep-alive connection per worker, each in its own client: httpx's pool scans
    # all its connections on every request, which one shared pool would pay per request.
    clients = [
        httpx.AsyncClient(base_url=base_url, limits=limits, timeout=request_timeout)
        for _ in range(concurrency)
    ]
    try:
        marker = asyncio.create_task(mark_cpu())
        await asyncio.gather(*(worker(client) for client in clients))
        await marker
        cpu_used = time.process_time() - cpu_mark[0]
        # The last operations may end after stop_at: measure wall time to the true end.
        wall = max(loop.time() - measure_from, 1e-9)
    finally:
        for client in clients:
            await client.aclose()
    latencies.sort()
    count = len(latencies)
    return LoadResult(
        name=name,
        operations=count,
        errors=errors,
        seconds=round(wall, 3),
        per_second=round(count / wall, 1),
        p50_ms=round(percentile(latencies, 0.50) * 1000, 2),
        p99_ms=round(percentile(latencies, 0.99) * 1000, 2),
        client_cpu_share=round(cpu_used / wall, 2),
        concurrency=concurrency,
    )
