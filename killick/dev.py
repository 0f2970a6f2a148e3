"""``killick dev``: the whole local stack in one foreground process tree.

The sandbox network, a demo asset issued on it, the anchor server and the worker, with
the reference anchor's integrations. Ctrl-C stops everything. State lives in ``.env``,
the SQLite file and ``.killick/`` (the sandbox ledger), so a second run picks up where
the first stopped.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from killick.assets import add_channel_accounts, create_asset, update_asset
from killick.context import Context
from killick.models import Asset, OffChainAsset
from killick.offchain_assets import add_pair, create_offchain_asset
from killick.settings import Settings
from killick.stellar.issue_asset import issue_asset

STATE_DIR = Path(".killick")
DEMO_CODE = "DEMO"
DEMO_CHANNELS = 2
BRL = "iso4217:BRL"


def _wait_until_up(url: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up in {seconds:.0f}s")


async def ensure_demo_asset(settings: Settings) -> Asset:
    """The demo asset, issued on the local network unless it is there already."""
    context = Context.build(settings)
    try:
        horizon = context.horizon()
        async with context.sessions() as session:
            assets = (await session.scalars(select(Asset).where(Asset.code == DEMO_CODE))).all()
            for asset in assets:
                if asset.distribution_account and await _exists(
                    horizon, asset.distribution_account
                ):
                    return asset
            for stale in assets:  # issued on a network that is gone: keep, but switch off
                await update_asset(session, context.cipher, stale, sep6_enabled=False)
            await session.commit()
        issued = await issue_asset(
            settings.HORIZON_URI,
            settings.STELLAR_NETWORK_PASSPHRASE,
            DEMO_CODE,
            channel_count=DEMO_CHANNELS,
            home_domain=settings.host.split(":")[0],
        )
        async with context.sessions() as session:
            asset = await create_asset(
                session,
                context.cipher,
                code=DEMO_CODE,
                issuer=issued.issuer_public_key,
                distribution_seed=issued.distribution_secret,
                sep6_enabled=True,
                significant_decimals=2,
                deposit_max_amount=issued.amount,
                withdrawal_max_amount=issued.amount,
                sep38_enabled=True,
            )
            await session.flush()
            await _offer_brl_exchange(session, asset.asset_identifier)
            add_channel_accounts(session, context.cipher, list(issued.channel_secrets))
            await session.commit()
            return asset
    finally:
        await context.close()
        await context.engine.dispose()


async def _offer_brl_exchange(session: AsyncSession, stellar_asset: str) -> None:
    """BRL by PIX or wire, exchanged both ways with the demo asset (SEP-38, SEP-6)."""
    if await session.get(OffChainAsset, BRL) is None:
        methods = ["PIX=Brazil's instant payments", "WIRE=Bank wire transfer"]
        await create_offchain_asset(
            session,
            BRL,
            decimals=2,
            country_codes=["BR"],
            sell_delivery_methods=methods,
            buy_delivery_methods=methods,
        )
    await add_pair(session, BRL, stellar_asset)
    await add_pair(session, stellar_asset, BRL)


async def _exists(horizon, account: str) -> bool:  # type: ignore[no-untyped-def]
    from stellar_sdk.exceptions import NotFoundError

    try:
        await horizon.accounts().account_id(account).call()
    except NotFoundError:
        return False
    return True


def run_stack(settings: Settings, *, host: str, port: int, sandbox_port: int) -> int:
    """Start sandbox, server and worker as child processes; stop them all on Ctrl-C."""
    STATE_DIR.mkdir(exist_ok=True)
    killick = [sys.executable, "-m", "killick"]
    env = dict(os.environ)
    children: list[subprocess.Popen[bytes]] = []

    def start(*args: str) -> None:
        children.append(subprocess.Popen([*killick, *args], env=env))  # noqa: S603

    try:
        sandbox_args = [
            "sandbox",
            "--host",
            "127.0.0.1",
            "--port",
            str(sandbox_port),
            "--no-access-log",
            "--state",
            str(STATE_DIR / "sandbox.state"),
        ]
        start(*sandbox_args)
        _wait_until_up(f"http://127.0.0.1:{sandbox_port}/")
        asset = asyncio.run(ensure_demo_asset(settings))
        start("serve", "--host", host, "--port", str(port))
        start("worker")
        _wait_until_up(f"http://127.0.0.1:{port}/.well-known/stellar.toml")
        print(
            "\nKillick is running:\n"
            f"  anchor         http://localhost:{port}\n"
            f"  stellar.toml   http://localhost:{port}/.well-known/stellar.toml\n"
            f"  API docs       http://localhost:{port}/docs\n"
            f"  sandbox        http://127.0.0.1:{sandbox_port} (Horizon API)\n"
            f"  demo asset     {asset.code}:{asset.issuer}\n"
            "Try `killick demo` in another terminal. Ctrl-C stops everything.\n",
            flush=True,
        )
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        failed = [child for child in children if child.poll() not in (None, 0)]
        return 1 if failed else 0
    except KeyboardInterrupt:
        return 0
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
