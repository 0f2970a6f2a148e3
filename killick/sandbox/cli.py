"""`killick sandbox`: run the sandbox network as a local Horizon."""

from __future__ import annotations

import click
import uvicorn
from stellar_sdk import Network

from .app import create_sandbox_app
from .network import DEFAULT_MAX_OPS_PER_LEDGER, SandboxNetwork
from .persistence import StateFileError
from .rates import parse_rate_spec


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
@click.option(
    "--state",
    "state_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Keep the ledger in this file: it survives restarts (created if missing).",
)
@click.option(
    "--max-ops-per-ledger",
    default=DEFAULT_MAX_OPS_PER_LEDGER,
    show_default=True,
    type=click.IntRange(min=1),
    help="Operations a ledger takes at most; beyond it, surge pricing.",
)
@click.option(
    "--rate",
    "rates",
    multiple=True,
    metavar="SELL/BUY=PRICE",
    help="Path payment rate, e.g. native/USDC:G…=0.12 (1 XLM buys 0.12 USDC). Repeatable.",
)
@click.option(
    "--access-log/--no-access-log",
    default=True,
    show_default=True,
    help="Log every request (off in `killick dev`, where it drowns the anchor's log).",
)
def sandbox_command(
    host: str,
    port: int,
    ledger_seconds: float,
    network_passphrase: str,
    state_file: str | None,
    max_ops_per_ledger: int,
    rates: tuple[str, ...],
    access_log: bool,
) -> None:
    """Run a local Horizon-compatible Stellar network (in memory, with friendbot)."""
    try:
        parsed = [parse_rate_spec(spec) for spec in rates]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--rate") from None
    try:
        network = SandboxNetwork(
            network_passphrase,
            ledger_seconds,
            max_ops_per_ledger=max_ops_per_ledger,
            state_file=state_file,
        )
    except (StateFileError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    for sell, buy, price in parsed:
        network.rates.set(sell, buy, price)
    where = f"state in {state_file}" if state_file else "in memory"
    click.echo(
        f"Sandbox Horizon on http://{host}:{port} — passphrase {network_passphrase!r}, "
        f"a ledger every {ledger_seconds}s, {where}, friendbot at /friendbot?addr=G…"
    )
    # Open SSE streams never end by themselves; don't let them hold up Ctrl+C.
    uvicorn.run(
        create_sandbox_app(network),
        host=host,
        port=port,
        log_level="info",
        access_log=access_log,
        timeout_graceful_shutdown=1,
    )
