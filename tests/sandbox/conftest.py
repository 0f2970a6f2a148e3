"""Fixtures: a sandbox served by uvicorn on 127.0.0.1, reached only through stellar-sdk."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Sequence
from decimal import Decimal
from typing import Any

import httpx
import pytest
from stellar_sdk import Asset, Keypair, ServerAsync, TransactionBuilder
from stellar_sdk.exceptions import BadRequestError
from stellar_sdk.memo import Memo
from stellar_sdk.operation import Operation
from stellar_sdk.transaction_envelope import TransactionEnvelope

from killick.sandbox import RunningSandbox, SandboxNetwork, running_sandbox
from killick.stellar import HttpxAsyncClient

_TLS = ssl.create_default_context()
"""One TLS context for every test client: loading CA certificates costs ~0.1 s each time
(the sandbox is plain HTTP on loopback, so it is never even used)."""


class Chain:
    """Small conveniences over ServerAsync so tests read like the flows they check."""

    def __init__(
        self,
        running: RunningSandbox,
        server: ServerAsync,
        client: HttpxAsyncClient,
        manual: bool = False,
    ) -> None:
        self.manual = manual
        self.network: SandboxNetwork = running.network
        self.url = running.url
        self.server = server
        self.client = client
        self.passphrase = running.network.network_passphrase
        self.http = httpx.AsyncClient(base_url=running.url, timeout=10, verify=_TLS)
        """Plain HTTP, for the admin endpoints and for checking raw headers."""

    async def fund(self, count: int = 1) -> list[Keypair]:
        """New accounts funded by friendbot (all in the same ledger)."""
        keys = [Keypair.random() for _ in range(count)]
        responses = await self.settle(
            *(self.client.get(f"{self.url}/friendbot", {"addr": k.public_key}) for k in keys)
        )
        assert [r.status_code for r in responses] == [200] * count, responses[0].text
        return keys

    async def build(
        self,
        source: Keypair,
        operations: Sequence[Operation],
        *,
        signers: Sequence[Keypair] | None = None,
        memo: Memo | None = None,
        base_fee: int = 100,
        passphrase: str | None = None,
        valid_for: int = 60,
        sequence: int | None = None,
    ) -> TransactionEnvelope:
        account = await self.server.load_account(source.public_key)
        if sequence is not None:
            account.sequence = sequence
        builder = TransactionBuilder(account, passphrase or self.passphrase, base_fee=base_fee)
        for op in operations:
            builder.append_operation(op)
        if memo is not None:
            builder.add_memo(memo)
        if valid_for:
            builder.set_timeout(valid_for)
        envelope = builder.build()
        for key in signers if signers is not None else [source]:
            envelope.sign(key)
        return envelope

    async def submit(self, source: Keypair, operations: Sequence[Operation], **kw: Any) -> dict:
        envelope = await self.build(source, operations, **kw)
        (result,) = await self.settle(self.server.submit_transaction(envelope))
        return result

    async def settle(self, *aws: Any) -> list[Any]:
        """Await submissions; on a manual sandbox close ledgers while they are queued."""
        if not self.manual:
            return list(await asyncio.gather(*aws))
        tasks = [asyncio.ensure_future(a) for a in aws]
        while not all(t.done() for t in tasks):
            await asyncio.sleep(0.01)
            if self.network.pending_count:
                await self.network.close_ledger()
        return [t.result() for t in tasks]

    async def submit_failing(
        self, source: Keypair, operations: Sequence[Operation], **kw: Any
    ) -> BadRequestError:
        envelope = await self.build(source, operations, **kw)
        with pytest.raises(BadRequestError) as info:
            await self.settle(self.server.submit_transaction(envelope))
        return info.value

    async def account(self, key: Keypair | str) -> dict:
        account_id = key if isinstance(key, str) else key.public_key
        return await self.server.accounts().account_id(account_id).call()

    async def balance(self, key: Keypair | str, asset: Asset | None = None) -> Decimal:
        for line in (await self.account(key))["balances"]:
            if asset is None and line["asset_type"] == "native":
                return Decimal(line["balance"])
            if (
                asset is not None
                and line.get("asset_code") == asset.code
                and (line.get("asset_issuer") == asset.issuer)
            ):
                return Decimal(line["balance"])
        raise AssertionError(f"no {asset} balance")


@pytest.fixture
async def sandbox() -> AsyncIterator[RunningSandbox]:
    """A sandbox closing a ledger every 0.05 s (short waits keep the suite fast)."""
    async with running_sandbox(ledger_seconds=0.05) as running:
        yield running


@pytest.fixture
async def client() -> AsyncIterator[HttpxAsyncClient]:
    loopback = httpx.AsyncHTTPTransport(verify=_TLS)
    async with HttpxAsyncClient(
        request_timeout=10, post_timeout=10, stream_read_timeout=10, transport=loopback
    ) as c:
        yield c


@pytest.fixture
async def chain(sandbox: RunningSandbox, client: HttpxAsyncClient) -> AsyncIterator[Chain]:
    chain = Chain(sandbox, ServerAsync(sandbox.url, client=client), client)
    yield chain
    await chain.http.aclose()


@pytest.fixture
async def slow_chain(client: HttpxAsyncClient) -> AsyncIterator[Chain]:
    """A sandbox whose ledgers only close when the test says so."""
    async with running_sandbox(ledger_seconds=3600) as running:
        chain = Chain(running, ServerAsync(running.url, client=client), client, manual=True)
        yield chain
        await chain.http.aclose()


@pytest.fixture
def chain_on(client: HttpxAsyncClient):
    """Build a Chain on a sandbox the test runs itself (e.g. on a state file)."""

    def make(running: RunningSandbox) -> Chain:
        return Chain(running, ServerAsync(running.url, client=client), client)

    return make
