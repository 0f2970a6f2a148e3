"""Applying operations to ledger state.

Each handler gets a copy-on-write view; the caller discards the view when any operation of
the transaction fails, so handlers may mutate freely before deciding on failure.
Operation types without a handler fail with `op_not_supported` (opNOT_SUPPORTED).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from stellar_sdk import Asset, xdr
from stellar_sdk.operation import (
    ChangeTrust,
    CreateAccount,
    ManageData,
    Operation,
    Payment,
    SetOptions,
)

from . import results
from .amounts import INT64_MAX
from .results import OpOutcome
from .state import (
    AUTH_CLAWBACK_ENABLED,
    AUTH_IMMUTABLE,
    AUTH_REQUIRED,
    AUTH_REVOCABLE,
    AUTHORIZED_FLAG,
    MAX_SIGNERS,
    Account,
    AccountView,
    TrustLine,
    asset_key,
)

_CA, _PAY, _CT = xdr.CreateAccountResultCode, xdr.PaymentResultCode, xdr.ChangeTrustResultCode
_SO, _MD, _OT = xdr.SetOptionsResultCode, xdr.ManageDataResultCode, xdr.OperationType


@dataclass
class ApplyContext:
    view: AccountView
    ledger_sequence: int
    close_time: int
    base_reserve: int

    def touch(self, account: Account) -> None:
        account.last_modified_ledger = self.ledger_sequence
        account.last_modified_time = self.close_time


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

    amount = Operation.to_xdr_amount(op.starting_balance)
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


def _payment(ctx: ApplyContext, op: Payment, source: Account) -> OpOutcome:
    def result(code: xdr.PaymentResultCode) -> OpOutcome:
        return results.inner_outcome(_OT.PAYMENT, code)

    amount = Operation.to_xdr_amount(op.amount)
    destination = ctx.view.load(op.destination.account_id)
    if destination is None:
        return result(_PAY.PAYMENT_NO_DESTINATION)
    if op.asset.is_native():
        code = _pay_native(ctx, source, destination, amount)
    else:
        code = _pay_credit(ctx, op.asset, source, destination, amount)
    if code == _PAY.PAYMENT_SUCCESS:
        ctx.touch(source)
        ctx.touch(destination)
    return result(code)


def _pay_native(
    ctx: ApplyContext, source: Account, destination: Account, amount: int
) -> xdr.PaymentResultCode:
    if destination.balance + amount > INT64_MAX:
        return _PAY.PAYMENT_LINE_FULL
    if source.available_balance(ctx.base_reserve) < amount:
        return _PAY.PAYMENT_UNDERFUNDED
    source.balance -= amount
    destination.balance += amount
    return _PAY.PAYMENT_SUCCESS


def _pay_credit(
    ctx: ApplyContext, asset: Asset, source: Account, destination: Account, amount: int
) -> xdr.PaymentResultCode:
    key = asset_key(asset.code, asset.issuer)
    # Receiving side first, as stellar-core does; the issuer needs no trustline.
    dest_line = None
    if destination.account_id != asset.issuer:
        dest_line = destination.trustlines.get(key)
        if dest_line is None:
            return _PAY.PAYMENT_NO_TRUST
        if not dest_line.authorized:
            return _PAY.PAYMENT_NOT_AUTHORIZED
        if dest_line.balance + amount > dest_line.limit:
            return _PAY.PAYMENT_LINE_FULL
    src_line = None
    if source.account_id != asset.issuer:
        src_line = source.trustlines.get(key)
        if src_line is None:
            return _PAY.PAYMENT_SRC_NO_TRUST
        if not src_line.authorized:
            return _PAY.PAYMENT_SRC_NOT_AUTHORIZED
        if src_line.balance < amount:
            return _PAY.PAYMENT_UNDERFUNDED
    if src_line is not None:
        src_line.balance -= amount
        src_line.last_modified_ledger = ctx.ledger_sequence
    if dest_line is not None:
        dest_line.balance += amount
        dest_line.last_modified_ledger = ctx.ledger_sequence
    return _PAY.PAYMENT_SUCCESS


def _change_trust(ctx: ApplyContext, op: ChangeTrust, source: Account) -> OpOutcome:
    def result(code: xdr.ChangeTrustResultCode) -> OpOutcome:
        return results.inner_outcome(_OT.CHANGE_TRUST, code)

    asset = op.asset
    if not isinstance(asset, Asset):
        return results.not_supported()  # liquidity pool shares: second part of the sandbox
    limit = Operation.to_xdr_amount(op.limit)
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


_HANDLERS: dict[type, Callable[[ApplyContext, Operation, Account], OpOutcome]] = {
    CreateAccount: _create_account,  # type: ignore[dict-item]
    Payment: _payment,  # type: ignore[dict-item]
    ChangeTrust: _change_trust,  # type: ignore[dict-item]
    SetOptions: _set_options,  # type: ignore[dict-item]
    ManageData: _manage_data,  # type: ignore[dict-item]
}

SUPPORTED_OPERATIONS = tuple(_HANDLERS)
