"""Server-sent events the way Horizon sends them.

A stream opens with `retry:` and a `"hello"` message, then sends each record as
`id: <paging_token>` + `data: <json>`, waking up whenever a ledger closes. Comment lines keep
idle connections alive.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .network import SandboxNetwork

STREAM_BATCH = 200

Fetch = Callable[[int | None], list[dict[str, Any]]]
"""Records strictly after a cursor, oldest first, at most STREAM_BATCH of them."""


def sse_message(data: Any, event_id: str | None = None) -> str:
    lines = []
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.append(f"data: {json.dumps(data, separators=(',', ':'))}")
    return "\n".join(lines) + "\n\n"


async def event_stream(
    network: SandboxNetwork, fetch: Fetch, cursor: int | None
) -> AsyncIterator[str]:
    """Yield SSE text for records after `cursor`, following new ledgers until closed."""
    close_after = network.faults.stream_close_after
    network.open_streams += 1
    try:
        yield 'retry: 1000\nevent: open\ndata: "hello"\n\n'
        async for message in _records(network, fetch, cursor, close_after):
            yield message
    finally:
        network.open_streams -= 1


async def _records(
    network: SandboxNetwork, fetch: Fetch, cursor: int | None, close_after: int | None
) -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    keepalive = network.config.keepalive_seconds
    last_write = loop.time()
    sent = 0
    while not network.closing:
        batch = fetch(cursor)
        for record in batch:
            token = record["paging_token"]
            yield sse_message(record, token)
            last_write = loop.time()
            cursor = int(token)
            sent += 1
            if close_after is not None and sent >= close_after:
                return
        if len(batch) >= STREAM_BATCH:
            continue
        await network.wait_for_ledger(max(0.0, last_write + keepalive - loop.time()))
        if loop.time() - last_write >= keepalive and not network.closing:
            # Quiet accounts still see bytes, so clients can tell a live stream from a dead one.
            yield ": keep-alive\n\n"
            last_write = loop.time()
