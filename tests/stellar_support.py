"""Setting up wallets, an issued asset and deposits on the sandbox network for tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine
from stellar_sdk import Asset as StellarAsset
from stellar_sdk import Keypair, Network, ServerAsync, TransactionBuilder

from killick.assets import create_asset
from killick.context import Context
from killick.models import Asset, Transaction
from killick.sandbox import SandboxNetwork, running_sandbox
from killick.stellar.horizon_client import HttpxAsyncClient
from killick.stellar.issue_asset import issue_asset
from tests.helpers import make_settings

PASSPHRASE = Network.TESTNET_NETWORK_PASSPHRASE


@dataclass
class StellarEnv:
    network: SandboxNetwork
    url: str
    horizon: ServerAsync
    context: Context
    asset: Asset

    @property
    def stellar_asset(self) -> StellarAsset:
        return StellarAsset(self.asset.code, self.asset.issuer)


@asynccontextmanager
async def stellar_env(
    database_url: str, engine: AsyncEngine, *, channels: int = 0, **settings: object
) -> AsyncIterator[StellarEnv]:
    """A sandbox, an issued asset registered in Killick, and a context on the database."""
    async with running_sandbox(ledger_seconds=0.05) as running:
        horizon = ServerAsync(running.url, client=HttpxAsyncClient())
        issued = await issue_asset(
            running.url, PASSPHRASE, "USDK", channel_count=channels, client=HttpxAsyncClient()
        )
        context = Context.build(
            make_settings(DATABASE_URL=database_url, HORIZON_URI=running.url, **settings),
            engine,
        )
        async with context.sessions() as session:
            asset = await create_asset(
                session,
                context.cipher,
                code="USDK",
                issuer=issued.issuer_public_key,
                distribution_seed=issued.distribution_secret,
                sep6_enabled=True,
                significant_decimals=7,
            )
            from killick.models import ChannelAccount

            for secret in issued.channel_secrets:
                session.add(
                    ChannelAccount(
                        public_key=Keypair.from_secret(secret).public_key,
                        seed_encrypted=context.cipher.encrypt(secret),
                    )
                )
            await session.commit()
        try:
            yield StellarEnv(running.network, running.url, horizon, context, asset)
        finally:
            await context.close()
            await horizon.close()


async def new_wallet(
    env: StellarEnv, *, trust: bool = True, limit: str | None = None, fund: bool = True
) -> Keypair:
    wallet = Keypair.random()
    if not fund:
        return wallet
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{env.url}/friendbot", params={"addr": wallet.public_key})
        assert response.status_code == 200, response.text
    if trust:
        source = await env.horizon.load_account(wallet.public_key)
        tx = (
            TransactionBuilder(source, PASSPHRASE, 100)
            .append_change_trust_op(env.stellar_asset, limit=limit)
            .set_timeout(60)
            .build()
        )
        tx.sign(wallet)
        await env.horizon.submit_transaction(tx)
    return wallet


async def balance(env: StellarEnv, account: str) -> Decimal:
    record = await env.horizon.accounts().account_id(account).call()
    for line in record["balances"]:
        if (
            line.get("asset_code") == env.asset.code
            and line.get("asset_issuer") == env.asset.issuer
        ):
            return Decimal(line["balance"])
    return Decimal(0)


async def add_deposit(env: StellarEnv, destination: str, amount_out: str, **values: object) -> str:
    """A deposit whose off-chain funds arrived: ``pending_anchor`` with its amount."""
    async with env.context.sessions() as session:
        asset = await session.get(Asset, env.asset.id)
        deposit = Transaction(
            kind="deposit",
            status="pending_anchor",
            asset=asset,
            principal=destination,
            stellar_account=destination,
            to_address=destination,
            amount_in=Decimal(amount_out) + 1,
            amount_fee=Decimal(1),
            amount_out=Decimal(amount_out),
            **values,
        )
        session.add(deposit)
        await session.commit()
        return deposit.id


async def status_of(env: StellarEnv, deposit_id: str) -> Transaction:
    async with env.context.sessions() as session:
        deposit = await session.get(Transaction, deposit_id)
        assert deposit is not None
        return deposit


async def payments_received(env: StellarEnv, account: str) -> list[dict]:
    """Every payment of the asset to ``account`` on the network (to count them)."""
    records = (await env.horizon.payments().for_account(account).limit(200).call())["_embedded"][
        "records"
    ]
    return [
        r
        for r in records
        if r.get("type") == "payment"
        and r.get("to") == account
        and r.get("asset_code") == env.asset.code
        and r.get("transaction_successful", True)
    ]


async def fund_with_asset(env: StellarEnv, wallet: Keypair, amount: str) -> None:
    """The distribution account pays ``amount`` of the asset to ``wallet`` (trusting it)."""
    async with env.context.sessions() as session:
        asset = await session.get(Asset, env.asset.id)
        seed = asset.distribution_seed(env.context.cipher)
    distribution = Keypair.from_secret(seed)
    source = await env.horizon.load_account(distribution.public_key)
    tx = (
        TransactionBuilder(source, PASSPHRASE, 100)
        .append_payment_op(wallet.public_key, env.stellar_asset, amount)
        .set_timeout(60)
        .build()
    )
    tx.sign(distribution)
    await env.horizon.submit_transaction(tx)


async def pay(
    env: StellarEnv,
    wallet: Keypair,
    destination: str,
    amount: str,
    *,
    memo_id: int | None = None,
    memo_text: str | None = None,
    asset: StellarAsset | None = None,
    sender: str | None = None,
) -> str:
    """``wallet`` pays ``destination`` (from ``sender``, one of its ``M…`` addresses,
    when given); returns the transaction hash."""
    source = await env.horizon.load_account(wallet.public_key)
    builder = TransactionBuilder(source, PASSPHRASE, 100).append_payment_op(
        destination, asset or env.stellar_asset, amount, source=sender
    )
    if memo_id is not None:
        builder.add_id_memo(memo_id)
    if memo_text is not None:
        builder.add_text_memo(memo_text)
    tx = builder.set_timeout(60).build()
    tx.sign(wallet)
    response = await env.horizon.submit_transaction(tx)
    return response["hash"]


async def add_withdrawal(
    env: StellarEnv, memo: str, amount: str | None = "10", *, anchor_account: str | None = None
) -> str:
    """A withdrawal waiting for the wallet's Stellar payment with ``memo`` (an id memo)."""
    async with env.context.sessions() as session:
        asset = await session.get(Asset, env.asset.id)
        account = Keypair.random().public_key
        withdrawal = Transaction(
            kind="withdrawal",
            status="pending_user_transfer_start",
            asset=asset,
            principal=account,
            stellar_account=account,
            amount_expected=Decimal(amount) if amount else None,
            withdraw_anchor_account=anchor_account or asset.distribution_account,
            withdraw_memo=memo,
            withdraw_memo_type="id",
        )
        session.add(withdrawal)
        await session.commit()
        return withdrawal.id
