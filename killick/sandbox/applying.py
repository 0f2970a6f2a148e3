"""What operation handlers share: the apply context and moving assets in and out of accounts.

Handlers get a copy-on-write view; the caller discards it when any operation of the
transaction fails, so handlers may mutate freely before deciding on failure.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from stellar_sdk import Asset

from .amounts import INT64_MAX
from .rates import RateTable
from .state import NATIVE, Account, LedgerView, TrustLine, asset_key

OK = "ok"


def asset_string(asset: Asset) -> str:
    """Horizon's canonical form: "native" or "CODE:ISSUER"."""
    return NATIVE if asset.is_native() else asset_key(asset.code, asset.issuer)


def asset_from_string(value: str) -> Asset:
    if value == NATIVE:
        return Asset.native()
    code, issuer = value.split(":", 1)
    return Asset(code, issuer)


@dataclass
class ApplyContext:
    view: LedgerView
    ledger_sequence: int
    close_time: int
    base_reserve: int
    tx_source_id: str = ""
    tx_sequence: int = 0
    op_index: int = 0
    """0-based position of the operation being applied (claimable balance ids use it)."""
    rates: RateTable = field(default_factory=RateTable)
    market_maker: str = ""
    """Account shown as the seller in path payment conversions (the network root)."""

    def touch(self, account: Account) -> None:
        account.last_modified_ledger = self.ledger_sequence
        account.last_modified_time = self.close_time

    def touch_line(self, line: TrustLine) -> None:
        line.last_modified_ledger = self.ledger_sequence


def can_debit(ctx: ApplyContext, account: Account, asset: str, amount: int) -> str:
    """Why `account` cannot send `amount` of `asset` (OK when it can); issuers always can."""
    if asset == NATIVE:
        return OK if account.available_balance(ctx.base_reserve) >= amount else "underfunded"
    if asset.endswith(":" + account.account_id):
        return OK
    line = account.trustlines.get(asset)
    if line is None:
        return "src_no_trust"
    if not line.authorized:
        return "src_not_authorized"
    return OK if line.balance >= amount else "underfunded"


def can_credit(account: Account, asset: str, amount: int) -> str:
    """Why `account` cannot receive `amount` of `asset` (OK when it can); issuers burn it."""
    if asset == NATIVE:
        return OK if account.balance + amount <= INT64_MAX else "line_full"
    if asset.endswith(":" + account.account_id):
        return OK
    line = account.trustlines.get(asset)
    if line is None:
        return "no_trust"
    if not line.authorized:
        return "not_authorized"
    return OK if line.balance + amount <= line.limit else "line_full"


def debit(ctx: ApplyContext, account: Account, asset: str, amount: int) -> None:
    """Take `amount` out (checked with can_debit first)."""
    if asset == NATIVE:
        account.balance -= amount
    elif not asset.endswith(":" + account.account_id):
        line = account.trustlines[asset]
        line.balance -= amount
        ctx.touch_line(line)
    ctx.touch(account)


def credit(ctx: ApplyContext, account: Account, asset: str, amount: int) -> None:
    """Put `amount` in (checked with can_credit first); paying the issuer burns it."""
    if asset == NATIVE:
        account.balance += amount
    elif not asset.endswith(":" + account.account_id):
        line = account.trustlines[asset]
        line.balance += amount
        ctx.touch_line(line)
    ctx.touch(account)
