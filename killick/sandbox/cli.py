"""`killick sandbox`: run the sandbox network as a local Horizon."""

from __future__ import annotations

import click
import uvicorn
from stellar_sdk import Network

from .app import create_sandbox_app
from .network import SandboxNetwork


@click.command("sandbox")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8001, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--ledger-seconds",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0.05),
    help="Close a ledger this often (seconds).",
)
@click.option(
    "--network-passphrase",
    default=Network.TESTNET_NETWORK_PASSPHRASE,
    show_default=True,
    help="Network passphrase transactions must be signed for.",
)
def sandbox_command(host: str, port: int, ledger_seconds: float, network_passphrase: str) -> None:
    """Run a local Horizon-compatible Stellar network (in memory, with friendbot)."""
    network = SandboxNetwork(network_passphrase, ledger_seconds)
    click.echo(
        f"Sandbox Horizon on http://{host}:{port} — passphrase {network_passphrase!r}, "
        f"a ledger every {ledger_seconds}s, friendbot at /friendbot?addr=G…"
    )
    # Open SSE streams never end by themselves; don't let them hold up Ctrl+C.
    uvicorn.run(
        create_sandbox_app(network),
        host=host,
        port=port,
        log_level="info",
        timeout_graceful_shutdown=1,
    )
