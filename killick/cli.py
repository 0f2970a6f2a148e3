"""The ``killick`` command: serve, migrate, assets, off-chain assets and pairs, keys,
configuration, local development."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy import select
from stellar_sdk import Keypair

from killick.assets import (
    AMOUNT_FIELDS,
    FLAG_FIELDS,
    AssetError,
    add_channel_accounts,
    create_asset,
    find_asset,
    update_asset,
)
from killick.context import Context
from killick.local_env import ensure_local_env
from killick.migrate import migrate
from killick.models import Asset, ChannelAccount
from killick.settings import ConfigError, Settings, load_settings

T = TypeVar("T")


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as error:
        raise click.ClickException(f"configuration error:\n{error}") from None


def _configure_logging(settings: Settings) -> dict[str, Any]:
    from killick.logging_setup import configure_logging

    return configure_logging(settings.LOG_FORMAT, settings.LOG_LEVEL)


def _run(work: Callable[[Context], Awaitable[T]]) -> T:
    """Run ``work`` with a context on the configured database, then close it."""

    async def runner() -> T:
        context = Context.build(_settings())
        try:
            return await work(context)
        finally:
            await context.engine.dispose()

    return asyncio.run(runner())


@click.group()
@click.version_option(package_name="killick")
def main() -> None:
    """Killick, a Stellar anchor server."""


# -- serving -------------------------------------------------------------------------------


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
def serve(host: str, port: int, workers: int) -> None:
    """Run the HTTP server (SEP endpoints) with uvicorn."""
    import uvicorn

    settings = _settings()  # refuse to start on a wrong setting, with one clear line
    uvicorn.run(
        "killick.app:create_app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        log_config=_configure_logging(settings),  # each server process sets it up alike
        log_level=settings.LOG_LEVEL.lower(),
    )


@main.command()
def worker() -> None:
    """Run the background loops: pay deposits, watch withdrawals, deliver callbacks."""
    import signal

    from killick.integrations import load_integrations
    from killick.workers import build_worker

    settings = _settings()
    _configure_logging(settings)
    load_integrations(settings.INTEGRATIONS)

    async def run() -> None:
        context = Context.build(settings)
        runner = build_worker(context)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, runner.stop)
        try:
            await runner.run()
        finally:
            await context.close()
            await context.engine.dispose()

    asyncio.run(run())


@main.command("migrate")
def migrate_command() -> None:
    """Create or upgrade the database schema (safe to run again)."""
    settings = _settings()
    asyncio.run(migrate(settings.DATABASE_URL))
    click.echo("database is up to date")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--sandbox-port", default=8001, show_default=True, type=click.IntRange(1, 65535))
@click.option("--env-file", default=".env", show_default=True, type=click.Path(dir_okay=False))
def dev(host: str, port: int, sandbox_port: int, env_file: str) -> None:
    """Run the whole stack locally: sandbox network, demo asset, server, worker.

    Writes .env once with fresh local secrets, migrates SQLite, and uses the reference
    anchor's integrations. Ctrl-C stops everything; a second run reuses the state.
    """
    from killick.dev import run_stack

    if ensure_local_env(Path(env_file), sandbox_port=sandbox_port, port=port):
        click.echo(f"wrote {env_file} with fresh local secrets (LOCAL_MODE=1)")
    settings = _settings()
    _configure_logging(settings)  # its children (server, worker) configure their own
    asyncio.run(migrate(settings.DATABASE_URL))
    sys.exit(run_stack(settings, host=host, port=port, sandbox_port=sandbox_port))


@main.command()
@click.option("--url", default="http://localhost:8000", show_default=True, help="The anchor.")
@click.option("--amount", default="100", show_default=True, help="Amount to deposit.")
@click.option("--timeout", default=60.0, show_default=True, help="Seconds to wait per step.")
def demo(url: str, amount: str, timeout: float) -> None:
    """A scripted wallet: deposit and withdraw through a running anchor (`killick dev`)."""
    from killick.demo import DemoFailed, run_demo

    click.echo(f"Demo wallet against {url}")
    try:
        report = asyncio.run(run_demo(url, amount=Decimal(amount), step_seconds=timeout))
    except DemoFailed as error:
        raise click.ClickException(f"demo failed: {error}") from None
    except OSError as error:
        raise click.ClickException(f"cannot reach {url}: {error}; is `make run` running?") from None
    click.echo(f"deposit and withdrawal completed in {report.figures['seconds']}s")


def _register_sandbox() -> None:
    from killick.sandbox.cli import sandbox_command

    main.add_command(sandbox_command)


_register_sandbox()


# -- configuration and keys -------------------------------------------------------------------


@main.group()
def config() -> None:
    """Inspect the configuration."""


@config.command("check")
def config_check() -> None:
    """Validate every setting without starting anything."""
    settings = _settings()
    click.echo(f"configuration is valid (active: {', '.join(settings.ACTIVE_SEPS)})")


@main.group()
def keys() -> None:
    """Stellar keys and the encryption of stored seeds."""


@keys.command("new")
def keys_new() -> None:
    """Print a new random Stellar keypair (for SIGNING_SEED or a distribution account)."""
    keypair = Keypair.random()
    click.echo(f"public key: {keypair.public_key}")
    click.echo(f"secret:     {keypair.secret}")


@keys.command("reencrypt")
def keys_reencrypt() -> None:
    """Re-encrypt every stored seed with the first key of ENCRYPTION_KEYS (key rotation)."""

    async def work(context: Context) -> int:
        async with context.sessions() as session:
            assets = (await session.scalars(select(Asset))).all()
            count = 0
            for asset in assets:
                if asset.distribution_seed_encrypted:
                    asset.distribution_seed_encrypted = context.cipher.rotate(
                        asset.distribution_seed_encrypted
                    )
                    count += 1
            for channel in (await session.scalars(select(ChannelAccount))).all():
                if channel.seed_encrypted:
                    channel.seed_encrypted = context.cipher.rotate(channel.seed_encrypted)
                    count += 1
            await session.commit()
            return count

    click.echo(f"re-encrypted {_run(work)} seed(s) with the newest key")


# -- assets -------------------------------------------------------------------------------------


def _asset_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The editable asset settings as options; omitted ones stay unchanged."""
    for flag in reversed(FLAG_FIELDS):
        name = flag.replace("_", "-")
        func = click.option(f"--{name}/--no-{name}", flag, default=None)(func)
    for field in reversed(AMOUNT_FIELDS):
        func = click.option(f"--{field.replace('_', '-')}", field, default=None)(func)
    func = click.option("--significant-decimals", type=int, default=None)(func)
    func = click.option("--symbol", default=None)(func)
    func = click.option("--name", default=None)(func)
    func = click.option(
        "--distribution-seed",
        envvar="DISTRIBUTION_SEED",
        default=None,
        help="The distribution account's secret (or env DISTRIBUTION_SEED); stored encrypted.",
    )(func)
    func = click.option("--distribution-account", default=None)(func)
    return func


def _given(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


@main.group()
def asset() -> None:
    """Manage the Stellar assets the anchor serves."""


@asset.command("add")
@click.argument("code")
@click.option("--issuer", required=True, help="The issuing account (G...).")
@_asset_options
def asset_add(code: str, issuer: str, **values: Any) -> None:
    """Add an asset (use --sep6-enabled to serve it over SEP-6)."""

    async def work(context: Context) -> Asset:
        async with context.sessions() as session:
            created = await create_asset(
                session, context.cipher, code=code, issuer=issuer, **_given(values)
            )
            await session.commit()
            return created

    try:
        created = _run(work)
    except AssetError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"added {created.code} issued by {created.issuer}")


@asset.command("issue")
@click.argument("code")
@click.option("--horizon", default=None, help="Horizon URL (default: HORIZON_URI).")
@click.option("--friendbot", default=None, help="Friendbot URL (default: <horizon>/friendbot).")
@click.option("--amount", default="1000000", show_default=True, help="Supply to issue.")
@click.option("--channels", default=0, show_default=True, type=click.IntRange(0, 100))
@click.option("--home-domain", default=None, help="Set on the issuer (SEP-1 link).")
@click.option("--sep6-enabled/--no-sep6-enabled", default=True, show_default=True)
def asset_issue(
    code: str,
    horizon: str | None,
    friendbot: str | None,
    amount: str,
    channels: int,
    home_domain: str | None,
    sep6_enabled: bool,
) -> None:
    """Create a Stellar asset on a network with a friendbot (the sandbox, or testnet) and
    add it to Killick: issuer, distribution account with the supply, channel accounts."""
    from killick.stellar.issue_asset import issue_asset

    issuer_secret: list[str] = []

    async def work(context: Context) -> Asset:
        settings = context.settings
        issued = await issue_asset(
            horizon or settings.HORIZON_URI,
            settings.STELLAR_NETWORK_PASSPHRASE,
            code,
            amount=Decimal(amount),
            channel_count=channels,
            friendbot_url=friendbot,
            home_domain=home_domain,
        )
        issuer_secret.append(issued.issuer_secret)
        async with context.sessions() as session:
            created = await create_asset(
                session,
                context.cipher,
                code=code,
                issuer=issued.issuer_public_key,
                distribution_seed=issued.distribution_secret,
                sep6_enabled=sep6_enabled,
            )
            add_channel_accounts(session, context.cipher, list(issued.channel_secrets))
            await session.commit()
            return created

    try:
        created = _run(work)
    except AssetError as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"issued {created.code} by {created.issuer}; distribution {created.distribution_account}"
    )
    click.echo(
        "issuer secret (Killick does not keep it; store it offline to issue more later): "
        + issuer_secret[0]
    )
    if channels:
        click.echo(f"{channels} channel account(s) stored (encrypted) for parallel payments")


@asset.command("update")
@click.argument("code")
@click.option("--issuer", default=None, help="Needed when two assets share the code.")
@_asset_options
def asset_update(code: str, issuer: str | None, **values: Any) -> None:
    """Change an asset's settings; options not given stay as they are."""

    async def work(context: Context) -> Asset:
        async with context.sessions() as session:
            found = await find_asset(session, code, issuer)
            await update_asset(session, context.cipher, found, **_given(values))
            await session.commit()
            return found

    try:
        updated = _run(work)
    except AssetError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"updated {updated.code} issued by {updated.issuer}")


@asset.command("list")
def asset_list() -> None:
    """List assets with their SEP flags, fees and limits (never seeds)."""

    async def work(context: Context) -> list[Asset]:
        async with context.sessions() as session:
            return list((await session.scalars(select(Asset).order_by(Asset.code))).all())

    assets = _run(work)
    if not assets:
        click.echo("no assets; add one with `killick asset add CODE --issuer G...`")
        return
    for item in assets:
        flags = ",".join(f.removesuffix("_enabled") for f in FLAG_FIELDS if getattr(item, f))
        fees = " ".join(
            f"{f}={getattr(item, f)}" for f in AMOUNT_FIELDS if getattr(item, f) is not None
        )
        click.echo(
            f"{item.code}:{item.issuer} distribution={item.distribution_account or '-'} "
            f"decimals={item.significant_decimals} [{flags}] {fees}".rstrip()
        )


# -- off-chain assets and exchange pairs (SEP-38) ----------------------------------------------


def _split(values: tuple[str, ...]) -> list[str]:
    """Repeated options and comma lists alike: ``-m PIX,WIRE`` or ``-m PIX -m WIRE``."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _offchain_options(func: Callable[..., Any]) -> Callable[..., Any]:
    method_help = "NAME or NAME=description; repeat or separate with commas."
    func = click.option("--decimals", type=int, default=None)(func)
    func = click.option(
        "--country-codes", multiple=True, help="ISO 3166-1 alpha-2 or 3166-2, e.g. BR"
    )(func)
    func = click.option(
        "--delivery-methods", multiple=True, help="Both sell and buy methods. " + method_help
    )(func)
    func = click.option(
        "--sell-delivery-methods", multiple=True, help="How users pay in. " + method_help
    )(func)
    func = click.option(
        "--buy-delivery-methods", multiple=True, help="How users are paid. " + method_help
    )(func)
    return func


def _offchain_values(
    decimals: int | None,
    country_codes: tuple[str, ...],
    delivery_methods: tuple[str, ...],
    sell_delivery_methods: tuple[str, ...],
    buy_delivery_methods: tuple[str, ...],
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if decimals is not None:
        values["decimals"] = decimals
    if country_codes:
        values["country_codes"] = _split(country_codes)
    both = _split(delivery_methods)
    sell = _split(sell_delivery_methods) or both
    buy = _split(buy_delivery_methods) or both
    if sell:
        values["sell_delivery_methods"] = sell
    if buy:
        values["buy_delivery_methods"] = buy
    return values


def _run_offchain(work: Callable[[Context], Awaitable[T]]) -> T:
    from killick.offchain_assets import OffChainAssetError

    try:
        return _run(work)
    except OffChainAssetError as error:
        raise click.ClickException(str(error)) from None


@main.group()
def offchain() -> None:
    """Manage the off-chain assets traded through SEP-38 (iso4217:BRL, ...)."""


@offchain.command("add")
@click.argument("asset")
@_offchain_options
def offchain_add(asset: str, **options: Any) -> None:
    """Add an off-chain asset, e.g. iso4217:BRL --delivery-methods PIX,WIRE --country-codes BR."""
    from killick.offchain_assets import create_offchain_asset

    async def work(context: Context) -> None:
        async with context.sessions() as session:
            await create_offchain_asset(session, asset, **_offchain_values(**options))
            await session.commit()

    _run_offchain(work)
    click.echo(f"added {asset}")


@offchain.command("update")
@click.argument("asset")
@_offchain_options
def offchain_update(asset: str, **options: Any) -> None:
    """Change an off-chain asset; options not given stay as they are."""
    from killick.offchain_assets import update_offchain_asset

    async def work(context: Context) -> None:
        async with context.sessions() as session:
            await update_offchain_asset(session, asset, **_offchain_values(**options))
            await session.commit()

    _run_offchain(work)
    click.echo(f"updated {asset}")


@offchain.command("remove")
@click.argument("asset")
def offchain_remove(asset: str) -> None:
    """Remove an off-chain asset and its pairs (quotes already given stay readable)."""
    from killick.offchain_assets import remove_offchain_asset

    async def work(context: Context) -> None:
        async with context.sessions() as session:
            await remove_offchain_asset(session, asset)
            await session.commit()

    _run_offchain(work)
    click.echo(f"removed {asset}")


@offchain.command("list")
def offchain_list() -> None:
    """List off-chain assets with their decimals, countries and delivery methods."""
    from killick.models import OffChainAsset

    async def work(context: Context) -> list[OffChainAsset]:
        async with context.sessions() as session:
            query = select(OffChainAsset).order_by(OffChainAsset.id)
            return list((await session.scalars(query)).all())

    rows = _run(work)
    if not rows:
        click.echo("no off-chain assets; add one with `killick offchain add iso4217:XXX`")
    for row in rows:
        sell = ",".join(m["name"] for m in row.sell_delivery_methods) or "-"
        buy = ",".join(m["name"] for m in row.buy_delivery_methods) or "-"
        countries = ",".join(row.country_codes) or "-"
        click.echo(f"{row.id} decimals={row.decimals} countries={countries} sell={sell} buy={buy}")


@main.group()
def pair() -> None:
    """Manage the exchange pairs offered through SEP-38 and the SEP-6 exchange endpoints."""


@pair.command("add")
@click.argument("sell_asset")
@click.argument("buy_asset")
@click.option("--both-ways", is_flag=True, help="Also add BUY_ASSET -> SELL_ASSET.")
def pair_add(sell_asset: str, buy_asset: str, both_ways: bool) -> None:
    """Let users sell SELL_ASSET for BUY_ASSET (one iso4217:, one stellar:CODE:ISSUER)."""
    from killick.offchain_assets import add_pair

    async def work(context: Context) -> None:
        async with context.sessions() as session:
            await add_pair(session, sell_asset, buy_asset)
            if both_ways:
                await add_pair(session, buy_asset, sell_asset)
            await session.commit()

    _run_offchain(work)
    click.echo(f"added {sell_asset} -> {buy_asset}" + (" and back" if both_ways else ""))


@pair.command("remove")
@click.argument("sell_asset")
@click.argument("buy_asset")
def pair_remove(sell_asset: str, buy_asset: str) -> None:
    """Stop offering SELL_ASSET -> BUY_ASSET (quotes already given stay readable)."""
    from killick.offchain_assets import remove_pair

    async def work(context: Context) -> None:
        async with context.sessions() as session:
            await remove_pair(session, sell_asset, buy_asset)
            await session.commit()

    _run_offchain(work)
    click.echo(f"removed {sell_asset} -> {buy_asset}")


@pair.command("list")
def pair_list() -> None:
    """List exchange pairs (a Stellar asset needs sep38_enabled for its pairs to be offered)."""
    from killick.models import ExchangePair

    async def work(context: Context) -> list[tuple[str, str, bool]]:
        async with context.sessions() as session:
            rows = (await session.scalars(select(ExchangePair))).all()
            enabled = {
                f"stellar:{a.code}:{a.issuer}"
                for a in (await session.scalars(select(Asset))).all()
                if a.sep38_enabled
            }
        result = []
        for row in sorted(rows, key=lambda r: (r.sell_asset, r.buy_asset)):
            stellar = row.buy_asset if row.sell_asset.startswith("iso4217:") else row.sell_asset
            result.append((row.sell_asset, row.buy_asset, stellar in enabled))
        return result

    rows = _run(work)
    if not rows:
        click.echo("no pairs; add one with `killick pair add iso4217:XXX stellar:CODE:G...`")
    for sell, buy, offered in rows:
        note = "" if offered else "  (not offered: the Stellar asset lacks --sep38-enabled)"
        click.echo(f"{sell} -> {buy}{note}")


# -- transactions (operators) ------------------------------------------------------------------


def _operator_call(work: Callable[[Context], Awaitable[T]]) -> T:
    from killick.operator import OperatorError

    try:
        return _run(work)
    except OperatorError as error:
        raise click.ClickException(str(error)) from None


def _actor() -> str:
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name in this environment
        return "cli"


@main.group()
def transactions() -> None:
    """Find transactions, read their history, and move a stuck one (docs/operations.md)."""


@transactions.command("list")
@click.option("--status", default=None, help="e.g. pending_anchor")
@click.option("--kind", default=None, help="deposit, withdrawal, deposit-exchange, ...")
@click.option("--asset", default=None, help="CODE or CODE:ISSUER")
@click.option("--account", default=None, help="The user's Stellar account (G... or M...).")
@click.option("--since", default=None, help="Started at or after (2025-01-31 or ISO time, UTC).")
@click.option("--until", default=None, help="Started before.")
@click.option("--search", default=None, help="A transaction id, memo, Stellar hash or external id.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 500))
def transactions_list(
    status: str | None,
    kind: str | None,
    asset: str | None,
    account: str | None,
    since: str | None,
    until: str | None,
    search: str | None,
    limit: int,
) -> None:
    """List transactions, newest first."""
    from killick.operator import TransactionFilter, list_transactions, parse_time

    async def work(context: Context) -> list[Any]:
        filters = TransactionFilter(
            status=status,
            kind=kind,
            asset=asset,
            account=account,
            since=parse_time(since, "--since"),
            until=parse_time(until, "--until"),
            search=search,
        )
        async with context.sessions() as session:
            return await list_transactions(session, filters, limit=limit)

    rows = _operator_call(work)
    if not rows:
        click.echo("no transactions match")
    for row in rows:
        amount = row.amount_in if row.amount_in is not None else row.amount_expected
        click.echo(
            f"{row.id}  {row.started_at:%Y-%m-%d %H:%M:%S}  {row.kind:<19} {row.status:<31} "
            f"{row.asset.code} {amount if amount is not None else '-'}  {row.stellar_account}"
        )


@transactions.command("show")
@click.argument("transaction_id")
def transactions_show(transaction_id: str) -> None:
    """A transaction's fields, its event history and callbacks, and the moves allowed now."""
    from killick.operator import allowed_moves, callback_state, events_of, get_transaction

    async def work(context: Context) -> tuple[Any, list[Any], list[str]]:
        async with context.sessions() as session:
            found = await get_transaction(session, transaction_id)
            return found, await events_of(session, found.id), await allowed_moves(session, found)

    row, events, moves = _operator_call(work)
    fields = (
        "id kind status message stellar_account muxed_account account_memo amount_expected "
        "amount_in amount_fee amount_out deposit_memo withdraw_anchor_account withdraw_memo "
        "stellar_transaction_id external_transaction_id envelope_hash submission_attempts "
        "claimable_balance_id started_at updated_at completed_at user_action_required_by "
        "claimed_by claimed_until"
    ).split()
    click.echo(f"{'asset':<24} {row.asset.code}:{row.asset.issuer}")
    for name in fields:
        value = getattr(row, name)
        if value is not None:
            click.echo(f"{name:<24} {value}")
    click.echo(f"\nevents ({len(events)}):")
    for event in events:
        click.echo(
            f"  #{event.id} {event.created_at:%Y-%m-%d %H:%M:%S} "
            f"{event.from_status or 'new'} -> {event.to_status} by {event.actor}"
            + (f": {event.reason}" if event.reason else "")
        )
        click.echo(f"      callback: {callback_state(event)}")
    click.echo(f"\nmoves allowed now: {', '.join(moves) or 'none'}")


@transactions.command("set-status")
@click.argument("transaction_id")
@click.argument("status")
@click.option("--reason", required=True, help="Why (kept on the event; no personal data).")
def transactions_set_status(transaction_id: str, status: str, reason: str) -> None:
    """Move a transaction to STATUS through the state machine, recording the reason."""
    from killick.operator import set_status

    async def work(context: Context) -> tuple[str | None, str]:
        async with context.sessions() as session:
            event = await set_status(session, transaction_id, status, reason=reason, actor=_actor())
            await session.commit()
            return event.from_status, event.to_status

    before, after = _operator_call(work)
    click.echo(f"transaction {transaction_id}: {before} -> {after}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
