"""What a deposit's destination account can receive: checked on the network before paying."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from stellar_sdk import MuxedAccount, ServerAsync
from stellar_sdk.exceptions import NotFoundError

from killick.models import Asset


class Readiness(StrEnum):
    READY = "ready"  # trustline present and authorized
    NO_ACCOUNT = "no_account"
    NO_TRUST = "no_trust"  # account exists, no trustline
    NOT_AUTHORIZED = "not_authorized"  # trustline exists but the issuer has not authorized it
    LINE_FULL = "line_full"


@dataclass(frozen=True)
class Destination:
    account: str  # the G... account behind an M... address
    readiness: Readiness


def base_account(address: str) -> str:
    return MuxedAccount.from_account(address).account_id


def readiness_of(record: dict, asset: Asset, amount: Decimal) -> Readiness:  # type: ignore[type-arg]
    """Read an account record's trustline for ``asset``: can it receive ``amount``?"""
    for balance in record.get("balances", []):
        if balance.get("asset_code") == asset.code and balance.get("asset_issuer") == asset.issuer:
            if not balance.get("is_authorized", True):
                return Readiness.NOT_AUTHORIZED
            room = Decimal(balance["limit"]) - Decimal(balance["balance"])
            if room < amount:
                return Readiness.LINE_FULL
            return Readiness.READY
    return Readiness.NO_TRUST


async def check_destinations(
    horizon: ServerAsync, asset: Asset, amounts: dict[str, Decimal], *, concurrency: int = 10
) -> dict[str, Destination]:
    """Each destination's readiness to receive its total ``amounts`` of ``asset``
    (network errors propagate)."""
    accounts = {address: base_account(address) for address in amounts}
    totals: dict[str, Decimal] = {}
    for address, amount in amounts.items():
        totals[accounts[address]] = totals.get(accounts[address], Decimal(0)) + amount
    semaphore = asyncio.Semaphore(concurrency)
    results: dict[str, Readiness] = {}

    async def check(account: str) -> None:
        async with semaphore:
            try:
                record = await horizon.accounts().account_id(account).call()
            except NotFoundError:
                results[account] = Readiness.NO_ACCOUNT
                return
            results[account] = readiness_of(record, asset, totals[account])

    await asyncio.gather(*(check(a) for a in set(accounts.values())))
    return {
        address: Destination(account, results[account]) for address, account in accounts.items()
    }
