"""Serve a sandbox on a free loopback port inside the current event loop (tests, demos)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import uvicorn
from stellar_sdk import Network

from .app import create_sandbox_app
from .network import SandboxNetwork


@dataclass
class RunningSandbox:
    network: SandboxNetwork
    url: str

    def __iter__(self) -> Iterator[Any]:
        """Allows `async with running_sandbox() as (network, url)`."""
        return iter((self.network, self.url))


@contextlib.asynccontextmanager
async def running_sandbox(
    ledger_seconds: float = 0.1,
    network_passphrase: str = Network.TESTNET_NETWORK_PASSPHRASE,
    *,
    network: SandboxNetwork | None = None,
    host: str = "127.0.0.1",
) -> AsyncIterator[RunningSandbox]:
    """Run uvicorn with a sandbox on `host` and an OS-chosen port; yields (network, url)."""
    network = network or SandboxNetwork(network_passphrase, ledger_seconds)
    app = create_sandbox_app(network)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=2,
        access_log=False,
    )
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve(sockets=[sock]), name="sandbox-uvicorn")
    try:
        while not server.started:
            if task.done():
                task.result()  # surfaces the startup error
                raise RuntimeError("sandbox server stopped during startup")
            await asyncio.sleep(0.01)
        yield RunningSandbox(network, f"http://{host}:{port}")
    finally:
        await network.stop()
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await task
        sock.close()
