"""Applying operations to ledger state: dispatch plus the account-level operations.

Operation types without a handler fail with `op_not_supported` (opNOT_SUPPORTED).
"""

from __future__ import annotations

from collections.abc import Callable

from stellar_sdk import Asset, xdr
from stellar_sdk.operation import (
    AccountMerge,
    AllowTrust,
    BumpSequence,
    ChangeTrust,
    ClaimClaimableBalance,
    Clawback,
    ClawbackClaimableBalance,
    CreateAccount,
    CreateClaimableBalance,
    ManageData,
    Operation,
    PathPaymentStrictReceive,
    PathPaymentStrictSend,
    Payment,
    SetOptions,
    SetTrustLineFlags,
)

from . import claimable_ops, path_ops, results, trust_ops
from .amounts import INT64_MAX, stroops
from .applying import OK, ApplyContext, asset_string, can_credit, can_debit, credit, debit
from .results import OpOutcome
from .state import (
    AUTH_CLAWBACK_ENABLED,
    AUTH_IMMUTABLE,
    AUTH_REQUIRED,
    AUTH_REVOCABLE,
    AUTHORIZED_FLAG,
    MAX_SIGNERS,
    TRUSTLINE_CLAWBACK_ENABLED_FLAG,
    Account,
    TrustLine,
    asset_key,
)

_CA, _PAY, _CT = xdr.CreateAccountResultCode, xdr.PaymentResultCode, xdr.ChangeTrustResultCode
_SO, _MD, _OT = xdr.SetOptionsResultCode, xdr.ManageDataResultCode, xdr.OperationType
_AM, _BS = xdr.AccountMergeResultCode, xdr.BumpSequenceResultCode

__all__ = ["SUPPORTED_OPERATIONS", "ApplyContext", "apply_operation"]


def apply_operation(ctx: ApplyContext, op: Operation, source_id: str) -> OpOutcome:
    """Apply one operation for `source_id`; returns its result."""
    handler = _HANDLERS.get(type(op))
    if handler is None:
        return results.not_supported()
    source = ctx.view.load(source_id)
    if source is None:
        return results.op_level_outcome(xdr.OperationResultCode.opNO_ACCOUNT)
    return handler(ctx, op, source)


def _create_account(ctx: ApplyContext, op: CreateAccount, source: Account) -> OpOutcome:
    def result(code: xdr.CreateAccountResultCode) -> OpOutcome:
        return results.inner_outcome(_OT.CREATE_ACCOUNT, code)

    amount = stroops(op.starting_balance)
    if ctx.view.peek(op.destination) is not None:
        return result(_CA.CREATE_ACCOUNT_ALREADY_EXIST)
    if amount < 2 * ctx.base_reserve:
        return result(_CA.CREATE_ACCOUNT_LOW_RESERVE)
    if source.available_balance(ctx.base_reserve) < amount:
        return result(_CA.CREATE_ACCOUNT_UNDERFUNDED)
    source.balance -= amount
    ctx.touch(source)
    created = Account(
        account_id=op.destination,
        balance=amount,
        sequence=ctx.ledger_sequence << 32,
        sequence_ledger=ctx.ledger_sequence,
        sequence_time=ctx.close_time,
    )
    ctx.touch(created)
    ctx.view.create(created)
    return result(_CA.CREATE_ACCOUNT_SUCCESS)


_PAYMENT_CODES = {
    OK: _PAY.PAYMENT_SUCCESS,
    "underfunded": _PAY.PAYMENT_UNDERFUNDED,
    "src_no_trust": _PAY.PAYMENT_SRC_NO_TRUST,
    "src_not_authorized": _PAY.PAYMENT_SRC_NOT_AUTHORIZED,
    "no_trust": _PAY.PAYMENT_NO_TRUST,
    "not_authorized": _PAY.PAYMENT_NOT_AUTHORIZED,
    "line_full": _PAY.PAYMENT_LINE_FULL,
}


def _payment(ctx: ApplyContext, op: Payment, source: Account) -> OpOutcome:
    amount = stroops(op.amount)
    destination = ctx.view.load(op.destination.account_id)
    if destination is None:
        return results.inner_outcome(_OT.PAYMENT, _PAY.PAYMENT_NO_DESTINATION)
    asset = asset_string(op.asset)
    # Receiving side first, as stellar-core does.
    why = can_credit(destination, asset, amount)
    if why == OK:
        why = can_debit(ctx, source, asset, amount)
    if why == OK:
        debit(ctx, source, asset, amount)
        credit(ctx, destination, asset, amount)
    return results.inner_outcome(_OT.PAYMENT, _PAYMENT_CODES[why])


def _change_trust(ctx: ApplyContext, op: ChangeTrust, source: Account) -> OpOutcome:
    def result(code: xdr.ChangeTrustResultCode) -> OpOutcome:
        return results.inner_outcome(_OT.CHANGE_TRUST, code)

    asset = op.asset
    if not isinstance(asset, Asset):
        return results.not_supported()  # liquidity pool shares are not supported
    limit = stroops(op.limit)
    key = asset_key(asset.code, asset.issuer)
    line = source.trustlines.get(key)
    if line is None:
        if limit == 0:
            return result(_CT.CHANGE_TRUST_INVALID_LIMIT)
        issuer = ctx.view.peek(asset.issuer)
        if issuer is None:
            return result(_CT.CHANGE_TRUST_NO_ISSUER)
        if source.available_balance(ctx.base_reserve) < ctx.base_reserve:
            return result(_CT.CHANGE_TRUST_LOW_RESERVE)
        flags = 0 if issuer.flags & AUTH_REQUIRED else AUTHORIZED_FLAG
        if issuer.flags & AUTH_CLAWBACK_ENABLED:
            flags |= TRUSTLINE_CLAWBACK_ENABLED_FLAG
        source.trustlines[key] = TrustLine(
            code=asset.code,
            issuer=asset.issuer,
            limit=limit,
            flags=flags,
            last_modified_ledger=ctx.ledger_sequence,
        )
    elif limit == 0:
        if line.balance > 0:
            return result(_CT.CHANGE_TRUST_INVALID_LIMIT)
        del source.trustlines[key]
    else:
        if limit < line.balance:
            return result(_CT.CHANGE_TRUST_INVALID_LIMIT)
        line.limit = limit
        line.last_modified_ledger = ctx.ledger_sequence
    ctx.touch(source)
    return result(_CT.CHANGE_TRUST_SUCCESS)


def _set_options(ctx: ApplyContext, op: SetOptions, source: Account) -> OpOutcome:
    def result(code: xdr.SetOptionsResultCode) -> OpOutcome:
        return results.inner_outcome(_OT.SET_OPTIONS, code)

    if op.inflation_dest is not None:
        if ctx.view.peek(op.inflation_dest) is None:
            return result(_SO.SET_OPTIONS_INVALID_INFLATION)
        source.inflation_dest = op.inflation_dest
    set_flags = int(op.set_flags or 0)
    clear_flags = int(op.clear_flags or 0)
    if set_flags or clear_flags:
        if source.flags & AUTH_IMMUTABLE:
            return result(_SO.SET_OPTIONS_CANT_CHANGE)
        flags = (source.flags | set_flags) & ~clear_flags
        if flags & AUTH_CLAWBACK_ENABLED and not flags & AUTH_REVOCABLE:
            return result(_SO.SET_OPTIONS_AUTH_REVOCABLE_REQUIRED)
        source.flags = flags
    if op.master_weight is not None:
        source.master_weight = op.master_weight
    if op.low_threshold is not None:
        source.low_threshold = op.low_threshold
    if op.med_threshold is not None:
        source.med_threshold = op.med_threshold
    if op.high_threshold is not None:
        source.high_threshold = op.high_threshold
    if op.home_domain is not None:
        source.home_domain = op.home_domain
    if op.signer is not None:
        key = op.signer.signer_key.encoded_signer_key
        if op.signer.weight == 0:
            source.signers.pop(key, None)
        elif key in source.signers:
            source.signers[key] = op.signer.weight
        else:
            if len(source.signers) >= MAX_SIGNERS:
                return result(_SO.SET_OPTIONS_TOO_MANY_SIGNERS)
            if source.available_balance(ctx.base_reserve) < ctx.base_reserve:
                return result(_SO.SET_OPTIONS_LOW_RESERVE)
            source.signers[key] = op.signer.weight
    ctx.touch(source)
    return result(_SO.SET_OPTIONS_SUCCESS)


def _manage_data(ctx: ApplyContext, op: ManageData, source: Account) -> OpOutcome:
    def result(code: xdr.ManageDataResultCode) -> OpOutcome:
        return results.inner_outcome(_OT.MANAGE_DATA, code)

    name = op.data_name
    if op.data_value is None:
        if name not in source.data:
            return result(_MD.MANAGE_DATA_NAME_NOT_FOUND)
        del source.data[name]
    else:
        if name not in source.data and (
            source.available_balance(ctx.base_reserve) < ctx.base_reserve
        ):
            return result(_MD.MANAGE_DATA_LOW_RESERVE)
        source.data[name] = bytes(op.data_value)
    ctx.touch(source)
    return result(_MD.MANAGE_DATA_SUCCESS)


def _account_merge(ctx: ApplyContext, op: AccountMerge, source: Account) -> OpOutcome:
    """Move every lumen to the destination and delete the source (stellar-core's order)."""

    def result(code: xdr.AccountMergeResultCode, **fields: object) -> OpOutcome:
        return results.inner_outcome(_OT.ACCOUNT_MERGE, code, **fields)

    destination = ctx.view.load(op.destination.account_id)
    if destination is None:
        return result(_AM.ACCOUNT_MERGE_NO_ACCOUNT)
    if source.flags & AUTH_IMMUTABLE:
        return result(_AM.ACCOUNT_MERGE_IMMUTABLE_SET)
    if source.subentry_count > 0:
        return result(_AM.ACCOUNT_MERGE_HAS_SUB_ENTRIES)
    if source.sequence >= ctx.ledger_sequence << 32:
        return result(_AM.ACCOUNT_MERGE_SEQNUM_TOO_FAR)
    if source.num_sponsoring > 0:
        return result(_AM.ACCOUNT_MERGE_IS_SPONSOR)
    if destination.balance + source.balance > INT64_MAX:
        return result(_AM.ACCOUNT_MERGE_DEST_FULL)
    moved = source.balance
    destination.balance += moved
    ctx.touch(destination)
    ctx.view.delete(source.account_id)
    return result(_AM.ACCOUNT_MERGE_SUCCESS, source_account_balance=xdr.Int64(moved))


def _bump_sequence(ctx: ApplyContext, op: BumpSequence, source: Account) -> OpOutcome:
    if op.bump_to > source.sequence:
        source.sequence = op.bump_to
        source.sequence_ledger = ctx.ledger_sequence
        source.sequence_time = ctx.close_time
        ctx.touch(source)
    return results.inner_outcome(_OT.BUMP_SEQUENCE, _BS.BUMP_SEQUENCE_SUCCESS)


_HANDLERS: dict[type, Callable[[ApplyContext, Operation, Account], OpOutcome]] = {
    CreateAccount: _create_account,  # type: ignore[dict-item]
    Payment: _payment,  # type: ignore[dict-item]
    ChangeTrust: _change_trust,  # type: ignore[dict-item]
    SetOptions: _set_options,  # type: ignore[dict-item]
    ManageData: _manage_data,  # type: ignore[dict-item]
    AccountMerge: _account_merge,  # type: ignore[dict-item]
    BumpSequence: _bump_sequence,  # type: ignore[dict-item]
    CreateClaimableBalance: claimable_ops.create_claimable_balance,  # type: ignore[dict-item]
    ClaimClaimableBalance: claimable_ops.claim_claimable_balance,  # type: ignore[dict-item]
    ClawbackClaimableBalance: claimable_ops.clawback_claimable_balance,  # type: ignore[dict-item]
    AllowTrust: trust_ops.allow_trust,  # type: ignore[dict-item]
    SetTrustLineFlags: trust_ops.set_trust_line_flags,  # type: ignore[dict-item]
    Clawback: trust_ops.clawback,  # type: ignore[dict-item]
    PathPaymentStrictSend: path_ops.strict_send,  # type: ignore[dict-item]
    PathPaymentStrictReceive: path_ops.strict_receive,  # type: ignore[dict-item]
}

SUPPORTED_OPERATIONS = tuple(_HANDLERS)
