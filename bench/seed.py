"""Settings for the processes under test, and bulk-inserted rows (thousands at a time)."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, text
from stellar_sdk import Keypair, Network

from killick.assets import create_asset
from killick.columns import utcnow
from killick.context import Context
from killick.models import Asset, ChannelAccount, Transaction
from killick.sep10 import SEP10Token
from killick.settings import Settings

PASSPHRASE = Network.TESTNET_NETWORK_PASSPHRASE
INTEGRATIONS = "bench.integrations"
CHUNK = 2000


@dataclass(frozen=True)
class Secrets:
    """One run's keys: the server's SEP-10 signing key and its JWT key."""

    signing_seed: str = field(default_factory=lambda: Keypair.random().secret)
    jwt_key: str = field(default_factory=lambda: secrets.token_urlsafe(48))


def settings_env(
    keys: Secrets, database_url: str, horizon_url: str, host_url: str = "http://127.0.0.1"
) -> dict[str, str]:
    """The environment a ``killick`` process of the bench runs with."""
    return {
        "SIGNING_SEED": keys.signing_seed,
        "SERVER_JWT_KEY": keys.jwt_key,
        "HOST_URL": host_url,
        "LOCAL_MODE": "1",
        "DATABASE_URL": database_url,
        "HORIZON_URI": horizon_url,
        "INTEGRATIONS": INTEGRATIONS,
        "WORKER_POLL_SECONDS": "0.2",
        "RAILS_POLL_SECONDS": "0.2",
        # The bench's clients all come from 127.0.0.1: per-client rate limits would refuse it.
        "RATE_LIMIT_AUTH": "0",
        "RATE_LIMIT_CUSTOMER": "0",
        "RATE_LIMIT_TRANSFERS": "0",
    }


def make_settings(keys: Secrets, database_url: str, horizon_url: str, **extra: Any) -> Settings:
    values: dict[str, Any] = {**settings_env(keys, database_url, horizon_url), **extra}
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def bearer(keys: Secrets, host_url: str, account: str) -> dict[str, str]:
    """A token exactly as the server's POST /auth issues it (same key, same issuer)."""
    token = SEP10Token.issue(
        account=account, issuer=host_url + "/auth", lifetime=timedelta(hours=6)
    )
    return {"Authorization": f"Bearer {token.encode(keys.jwt_key)}"}


async def add_asset(
    context: Context,
    code: str,
    *,
    issuer: str | None = None,
    distribution_seed: str | None = None,
    channel_secrets: Iterable[str] = (),
) -> Asset:
    async with context.sessions() as session:
        asset = await create_asset(
            session,
            context.cipher,
            code=code,
            issuer=issuer or Keypair.random().public_key,
            distribution_seed=distribution_seed or Keypair.random().secret,
            sep6_enabled=True,
            significant_decimals=7,
        )
        for secret in channel_secrets:
            session.add(
                ChannelAccount(
                    public_key=Keypair.from_secret(secret).public_key,
                    seed_encrypted=context.cipher.encrypt(secret),
                )
            )
        await session.commit()
        return asset


async def bulk_insert(context: Context, rows: Iterable[dict[str, Any]]) -> int:
    """Insert transaction rows in chunks (one executemany each); returns how many."""
    count = 0
    batch: list[dict[str, Any]] = []

    async def flush() -> None:
        async with context.sessions() as session:
            await session.execute(insert(Transaction), batch)
            await session.commit()

    for row in rows:
        batch.append(row)
        if len(batch) >= CHUNK:
            await flush()
            count += len(batch)
            batch = []
    if batch:
        await flush()
        count += len(batch)
    if count >= CHUNK and context.engine.dialect.name == "postgresql":
        # A table filled in one go has no statistics until autovacuum gets to it (a minute
        # or more): without them the planner looked rows up by id through
        # ix_transaction_principal_started (~85 ms each, not ~0.1 ms through the key).
        # A production table grows gradually and autoanalyze keeps its statistics.
        async with context.sessions() as session:
            await session.execute(text("ANALYZE transaction"))
            await session.commit()
    return count


def _row(asset: Asset, account: str, **values: Any) -> dict[str, Any]:
    now = values.pop("now", None) or utcnow()
    row = {
        "id": str(uuid.uuid4()),
        "protocol": "sep6",
        "asset_id": asset.id,
        "principal": account,
        "stellar_account": account,
        "started_at": now,
        "updated_at": now,
        "claimable_balance_supported": False,
        "refunded": False,
        "submission_attempts": 0,
    }
    row.update(values)
    return row


def history_rows(asset: Asset, account: str, count: int) -> Iterable[dict[str, Any]]:
    """A wallet's long history: completed deposits and withdrawals, a minute apart."""
    start = utcnow() - timedelta(minutes=count)
    for i in range(count):
        at = start + timedelta(minutes=i)
        yield _row(
            asset,
            account,
            now=at,
            kind="deposit" if i % 3 else "withdrawal",
            status="completed",
            amount_in=Decimal("10"),
            amount_fee=Decimal("0.1"),
            amount_out=Decimal("9.9"),
            completed_at=at,
            stellar_transaction_id=uuid.uuid4().hex + uuid.uuid4().hex,
        )


def deposit_rows(
    asset: Asset, wallets: list[str], count: int, status: str = "pending_anchor"
) -> Iterable[dict[str, Any]]:
    """Deposits whose off-chain funds arrived (``pending_anchor``), or that wait for them."""
    start = utcnow()
    for i in range(count):
        wallet = wallets[i % len(wallets)]
        yield _row(
            asset,
            wallet,
            now=start + timedelta(microseconds=i),
            kind="deposit",
            status=status,
            to_address=wallet,
            amount_in=Decimal("0.01"),
            amount_fee=Decimal("0"),
            amount_out=Decimal("0.01"),
        )


def withdrawal_rows(asset: Asset, memos: Iterable[int]) -> Iterable[dict[str, Any]]:
    """Withdrawals waiting for the wallet's payment with their id memo."""
    for memo in memos:
        account = Keypair.random().public_key
        yield _row(
            asset,
            account,
            kind="withdrawal",
            status="pending_user_transfer_start",
            amount_expected=Decimal("1"),
            withdraw_anchor_account=asset.distribution_account,
            withdraw_memo=str(memo),
            withdraw_memo_type="id",
        )
