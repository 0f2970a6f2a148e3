"""Talking to the bench's sandbox: close-now, friendbot, raw submissions, prepared
assets and wallets. Setup runs under ``hurry()`` (ledgers closed every few ms) so that
it takes seconds whatever the measured ledger interval is."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
from stellar_sdk import Account, Keypair, TransactionBuilder
from stellar_sdk import Asset as StellarAsset

from bench.seed import PASSPHRASE, add_asset
from killick.context import Context
from killick.models import Asset
from killick.stellar.horizon_client import HttpxAsyncClient
from killick.stellar.issue_asset import issue_asset

MAX_OPS = 100


class SubmitFailed(RuntimeError):
    pass


@dataclass
class Prepared:
    asset: Asset
    distribution: Keypair

    @property
    def stellar_asset(self) -> StellarAsset:
        return StellarAsset(self.asset.code, self.asset.issuer)


class Chain:
    def __init__(self, url: str) -> None:
        self.url = url
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
        self.http = httpx.AsyncClient(base_url=url, timeout=120, limits=limits)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def close_now(self) -> None:
        (await self.http.post("/_sandbox/close")).raise_for_status()

    @contextlib.asynccontextmanager
    async def hurry(self, every: float = 0.02) -> AsyncIterator[None]:
        """Close ledgers every ``every`` seconds while the body runs (setup only)."""

        async def closer() -> None:
            while True:
                await self.close_now()
                await asyncio.sleep(every)

        task = asyncio.create_task(closer())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def friendbot(self, account: str) -> None:
        (await self.http.get("/friendbot", params={"addr": account})).raise_for_status()

    async def sequence(self, account: str) -> int:
        response = await self.http.get(f"/accounts/{account}")
        response.raise_for_status()
        return int(response.json()["sequence"])

    def own_client(self) -> httpx.AsyncClient:
        """A client with one connection, for one sequential submitter: httpx's pool scans
        every connection per request, so one big shared pool costs O(connections) each."""
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        return httpx.AsyncClient(base_url=self.url, timeout=120, limits=limits)

    async def submit(
        self, envelope_xdr: str, attempts: int = 3, client: httpx.AsyncClient | None = None
    ) -> dict[str, Any]:
        """Submit and wait for the ledger. A dropped connection (a keep-alive connection
        the server closed as we reused it) is retried: the sandbox answers a known
        transaction with its recorded result, so resubmitting never applies it twice."""
        for attempt in range(attempts):
            try:
                response = await (client or self.http).post(
                    "/transactions", data={"tx": envelope_xdr}
                )
                break
            except httpx.TransportError:
                if attempt == attempts - 1:
                    raise
        if response.status_code != 200:
            raise SubmitFailed(f"{response.status_code}: {response.text[:300]}")
        return response.json()

    async def transact(self, source: Keypair, build: Any, *signers: Keypair) -> dict[str, Any]:
        """Build (``build(builder)`` adds the operations), sign and submit one transaction."""
        sequence = await self.sequence(source.public_key)
        builder = TransactionBuilder(Account(source.public_key, sequence), PASSPHRASE, 100)
        build(builder)
        envelope = builder.set_timeout(300).build()
        for signer in signers or (source,):
            envelope.sign(signer)
        return await self.submit(envelope.to_xdr())

    async def prepare_asset(self, context: Context, code: str, channels: int) -> Prepared:
        """Issue ``code`` on the sandbox and register it (and its channels) in Killick."""
        client = HttpxAsyncClient()
        try:
            issued = await issue_asset(
                self.url,
                PASSPHRASE,
                code,
                amount=Decimal("10000000"),
                channel_count=channels,
                client=client,
            )
        finally:
            await client.close()
        asset = await add_asset(
            context,
            code,
            issuer=issued.issuer_public_key,
            distribution_seed=issued.distribution_secret,
            channel_secrets=issued.channel_secrets,
        )
        return Prepared(asset, Keypair.from_secret(issued.distribution_secret))

    async def wallets(self, prepared: Prepared, count: int) -> list[Keypair]:
        """``count`` funded wallets that trust the asset."""
        made = [Keypair.random() for _ in range(count)]

        async def one(wallet: Keypair) -> None:
            await self.friendbot(wallet.public_key)
            await self.transact(wallet, lambda b: b.append_change_trust_op(prepared.stellar_asset))

        await asyncio.gather(*(one(w) for w in made))
        return made

    async def pay_out(self, prepared: Prepared, wallets: list[Keypair], amount: str) -> None:
        """The distribution account pays ``amount`` to each wallet (100 per transaction)."""
        for start in range(0, len(wallets), MAX_OPS):
            chunk = wallets[start : start + MAX_OPS]

            def build(builder: TransactionBuilder, chunk: list[Keypair] = chunk) -> None:
                for wallet in chunk:
                    builder.append_payment_op(wallet.public_key, prepared.stellar_asset, amount)

            await self.transact(prepared.distribution, build)
