"""create_claimable_balance, claim_claimable_balance and clawback_claimable_balance.

The creator sponsors the entry: it reserves one base reserve per claimant until the balance
is claimed or clawed back (`num_sponsoring` on its account).
"""

from __future__ import annotations

from stellar_sdk import xdr
from stellar_sdk.operation import (
    ClaimClaimableBalance,
    ClawbackClaimableBalance,
    CreateClaimableBalance,
)

from . import results
from .amounts import stroops
from .applying import OK, ApplyContext, asset_string, can_credit, can_debit, credit, debit
from .claims import (
    balance_id,
    balance_id_xdr,
    normalize_balance_id,
    predicate_holds,
    stored_predicate,
)
from .results import OpOutcome
from .state import (
    AUTH_CLAWBACK_ENABLED,
    CLAIMABLE_BALANCE_CLAWBACK_ENABLED_FLAG,
    NATIVE,
    TRUSTLINE_CLAWBACK_ENABLED_FLAG,
    Account,
    ClaimableBalance,
)

_CR, _CL = xdr.CreateClaimableBalanceResultCode, xdr.ClaimClaimableBalanceResultCode
_CB, _OT = xdr.ClawbackClaimableBalanceResultCode, xdr.OperationType

_CREATE_CODES = {
    "underfunded": _CR.CREATE_CLAIMABLE_BALANCE_UNDERFUNDED,
    "src_no_trust": _CR.CREATE_CLAIMABLE_BALANCE_NO_TRUST,
    "src_not_authorized": _CR.CREATE_CLAIMABLE_BALANCE_NOT_AUTHORIZED,
}
_CLAIM_CODES = {
    "no_trust": _CL.CLAIM_CLAIMABLE_BALANCE_NO_TRUST,
    "not_authorized": _CL.CLAIM_CLAIMABLE_BALANCE_NOT_AUTHORIZED,
    "line_full": _CL.CLAIM_CLAIMABLE_BALANCE_LINE_FULL,
}


def create_claimable_balance(
    ctx: ApplyContext, op: CreateClaimableBalance, source: Account
) -> OpOutcome:
    def fail(code: xdr.CreateClaimableBalanceResultCode) -> OpOutcome:
        return results.inner_outcome(_OT.CREATE_CLAIMABLE_BALANCE, code)

    asset = asset_string(op.asset)
    amount = stroops(op.amount)
    why = can_debit(ctx, source, asset, amount)
    if why != OK:
        return fail(_CREATE_CODES[why])
    debit(ctx, source, asset, amount)
    if source.available_balance(ctx.base_reserve) < len(op.claimants) * ctx.base_reserve:
        return fail(_CR.CREATE_CLAIMABLE_BALANCE_LOW_RESERVE)
    source.num_sponsoring += len(op.claimants)
    new_id = balance_id(ctx.tx_source_id, ctx.tx_sequence, ctx.op_index)
    ctx.view.create_balance(
        ClaimableBalance(
            balance_id=new_id,
            asset=asset,
            amount=amount,
            sponsor=source.account_id,
            claimants=[
                (c.destination, stored_predicate(c.predicate, ctx.close_time)) for c in op.claimants
            ],
            flags=_clawback_flags(source, asset),
            last_modified_ledger=ctx.ledger_sequence,
        )
    )
    return results.inner_outcome(
        _OT.CREATE_CLAIMABLE_BALANCE,
        _CR.CREATE_CLAIMABLE_BALANCE_SUCCESS,
        {"balance_id": new_id},
        balance_id=balance_id_xdr(new_id),
    )


def _clawback_flags(source: Account, asset: str) -> int:
    """A balance can be clawed back when the creator's holding could be."""
    if asset == NATIVE:
        return 0
    if asset.endswith(":" + source.account_id):
        enabled = bool(source.flags & AUTH_CLAWBACK_ENABLED)
    else:
        enabled = bool(source.trustlines[asset].flags & TRUSTLINE_CLAWBACK_ENABLED_FLAG)
    return CLAIMABLE_BALANCE_CLAWBACK_ENABLED_FLAG if enabled else 0


def claim_claimable_balance(
    ctx: ApplyContext, op: ClaimClaimableBalance, source: Account
) -> OpOutcome:
    def result(code: xdr.ClaimClaimableBalanceResultCode) -> OpOutcome:
        return results.inner_outcome(_OT.CLAIM_CLAIMABLE_BALANCE, code)

    key = normalize_balance_id(op.balance_id)
    balance = ctx.view.peek_balance(key) if key else None
    if balance is None:
        return result(_CL.CLAIM_CLAIMABLE_BALANCE_DOES_NOT_EXIST)
    predicate = next((p for dest, p in balance.claimants if dest == source.account_id), None)
    if predicate is None or not predicate_holds(predicate, ctx.close_time):
        return result(_CL.CLAIM_CLAIMABLE_BALANCE_CANNOT_CLAIM)
    why = can_credit(source, balance.asset, balance.amount)
    if why != OK:
        return result(_CLAIM_CODES[why])
    credit(ctx, source, balance.asset, balance.amount)
    _remove(ctx, balance)
    return result(_CL.CLAIM_CLAIMABLE_BALANCE_SUCCESS)


def clawback_claimable_balance(
    ctx: ApplyContext, op: ClawbackClaimableBalance, source: Account
) -> OpOutcome:
    def result(code: xdr.ClawbackClaimableBalanceResultCode) -> OpOutcome:
        return results.inner_outcome(_OT.CLAWBACK_CLAIMABLE_BALANCE, code)

    key = normalize_balance_id(op.balance_id)
    balance = ctx.view.peek_balance(key) if key else None
    if balance is None:
        return result(_CB.CLAWBACK_CLAIMABLE_BALANCE_DOES_NOT_EXIST)
    if balance.asset == NATIVE or not balance.asset.endswith(":" + source.account_id):
        return result(_CB.CLAWBACK_CLAIMABLE_BALANCE_NOT_ISSUER)
    if not balance.flags & CLAIMABLE_BALANCE_CLAWBACK_ENABLED_FLAG:
        return result(_CB.CLAWBACK_CLAIMABLE_BALANCE_NOT_CLAWBACK_ENABLED)
    _remove(ctx, balance)
    ctx.touch(source)
    return result(_CB.CLAWBACK_CLAIMABLE_BALANCE_SUCCESS)


def _remove(ctx: ApplyContext, balance: ClaimableBalance) -> None:
    """Delete the entry and give the sponsor its reserves back."""
    ctx.view.delete_balance(balance.balance_id)
    sponsor = ctx.view.load(balance.sponsor)
    if sponsor is not None:
        sponsor.num_sponsoring -= balance.reserve_entries
        ctx.touch(sponsor)
