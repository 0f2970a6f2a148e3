"""Builders the SEP-6 tests share: assets, hooks that answer what a test says, requests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from stellar_sdk import Keypair, MuxedAccount

from killick.assets import create_asset
from killick.encryption import SeedCipher
from killick.integrations import (
    DepositIntegration,
    WithdrawalIntegration,
    register_integrations,
)
from killick.models import Asset, Event, Transaction
from tests.helpers import bearer

SUCCESS = {"how": "Wire to account 94922545", "extra_info": {"message": "Include the memo"}}
INFO_NEEDED = {"type": "non_interactive_customer_info_needed", "fields": ["first_name"]}
PENDING = {"type": "customer_info_status", "status": "pending"}
DENIED = {"type": "customer_info_status", "status": "denied"}


async def add_asset(
    sessions: async_sessionmaker[AsyncSession],
    cipher: SeedCipher,
    code: str = "USD",
    **values: Any,
) -> Asset:
    values.setdefault("sep6_enabled", True)
    async with sessions() as session:
        asset = await create_asset(
            session,
            cipher,
            code=code,
            issuer=Keypair.random().public_key,
            distribution_seed=Keypair.random().secret,
            **values,
        )
        await session.commit()
        return asset


class Recorder:
    """Remembers every call a stub hook got."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []


class StubDeposit(DepositIntegration):
    """Answers ``answer`` (a dict, or a function of (params, transaction))."""

    def __init__(self, answer: Any = None, *, patch: Callable[..., None] | None = None) -> None:
        self.answer = SUCCESS if answer is None else answer
        self.patch = patch
        self.recorder = Recorder()

    def process_sep6_request(self, token, request, params, transaction, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.recorder.calls.append({"token": token, "params": params, "transaction": transaction})
        if callable(self.answer):
            return self.answer(params, transaction)
        return self.answer

    def patch_transaction(self, token, request, params, transaction, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.patch is None:
            raise NotImplementedError
        self.patch(params, transaction)


class StubWithdraw(WithdrawalIntegration):
    def __init__(self, answer: Any = None, *, patch: Callable[..., None] | None = None) -> None:
        self.answer = {} if answer is None else answer
        self.patch = patch
        self.recorder = Recorder()

    def process_sep6_request(self, token, request, params, transaction, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.recorder.calls.append({"token": token, "params": params, "transaction": transaction})
        if callable(self.answer):
            return self.answer(params, transaction)
        return self.answer

    def patch_transaction(self, token, request, params, transaction, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.patch is None:
            raise NotImplementedError
        self.patch(params, transaction)


def use_hooks(deposit: Any = None, withdraw: Any = None, **others: Any) -> tuple[Any, Any]:
    """Register stub hooks (success by default); returns them."""
    dep = deposit if isinstance(deposit, DepositIntegration) else StubDeposit(deposit)
    wd = withdraw if isinstance(withdraw, WithdrawalIntegration) else StubWithdraw(withdraw)
    register_integrations(deposit=dep, withdraw=wd, **others)
    return dep, wd


class Wallet:
    """A wallet with its own account and token, talking to the app."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        account: str | None = None,
        *,
        memo: str | None = None,
        muxed_id: int | None = None,
    ) -> None:
        self.client = client
        self.account = account or Keypair.random().public_key
        self.muxed = (
            MuxedAccount(self.account, muxed_id).account_muxed if muxed_id is not None else None
        )
        self.headers = (
            bearer(muxed_account=self.muxed) if self.muxed else bearer(self.account, memo=memo)
        )

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.client.get("/sep6" + path, params=params, headers=self.headers)

    async def post_json(self, path: str, body: Any) -> httpx.Response:
        return await self.client.post("/sep6" + path, json=body, headers=self.headers)

    async def post_form(self, path: str, body: dict[str, str]) -> httpx.Response:
        return await self.client.post("/sep6" + path, data=body, headers=self.headers)

    async def patch(self, path: str, body: Any) -> httpx.Response:
        return await self.client.patch("/sep6" + path, json=body, headers=self.headers)


async def count_rows(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    """(transactions, events) stored."""
    async with sessions() as session:
        txns = await session.scalar(select(func.count()).select_from(Transaction))
        events = await session.scalar(select(func.count()).select_from(Event))
        return int(txns or 0), int(events or 0)


async def load(sessions: async_sessionmaker[AsyncSession], txn_id: str) -> Transaction:
    async with sessions() as session:
        txn = await session.get(Transaction, txn_id)
        assert txn is not None
        return txn
