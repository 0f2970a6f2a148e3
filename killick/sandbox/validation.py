"""Checks a transaction must pass to enter a ledger (stellar-core's checkValid, simplified).

The same checks run at submit time (against the current state plus what is already queued)
and again at apply time (against the state the ledger is being built on).
"""

from __future__ import annotations

from dataclasses import dataclass

from stellar_sdk import Asset, xdr
from stellar_sdk.operation import (
    AccountMerge,
    AllowTrust,
    BumpSequence,
    ChangeTrust,
    ClaimClaimableBalance,
    Clawback,
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

from . import results
from .amounts import stroops
from .claims import predicate_is_valid
from .envelope import ParsedTransaction
from .results import OpOutcome, placeholder_success
from .signatures import SignatureChecker, account_signers
from .state import (
    ALL_ACCOUNT_FLAGS,
    AUTHORIZED_FLAG,
    AUTHORIZED_TO_MAINTAIN_LIABILITIES_FLAG,
    TRUSTLINE_CLAWBACK_ENABLED_FLAG,
    LedgerView,
)

LOW, MEDIUM, HIGH = "low", "medium", "high"
MAX_OPERATIONS = 100

_LOW_THRESHOLD_OPS = (
    AllowTrust,
    SetTrustLineFlags,
    BumpSequence,
    ClaimClaimableBalance,
)

_CA, _PAY, _CT = xdr.CreateAccountResultCode, xdr.PaymentResultCode, xdr.ChangeTrustResultCode
_SO, _MD, _OT = xdr.SetOptionsResultCode, xdr.ManageDataResultCode, xdr.OperationType


@dataclass
class Rejection:
    """Why a transaction cannot enter the ledger; it is not applied and costs nothing.

    For a fee bump whose inner transaction is refused, `tx_code` is
    `tx_fee_bump_inner_failed` and `inner_code` says why.
    """

    tx_code: str
    op_outcomes: list[OpOutcome] | None = None
    inner_code: str | None = None
    fee_charged: int | None = None
    """Fee shown in the result; core reports the fee needed for tx_insufficient_fee."""

    @property
    def op_codes(self) -> list[str] | None:
        if self.op_outcomes is None:
            return None
        return [o.code for o in self.op_outcomes]


@dataclass
class LedgerContext:
    """What the checks judge against: the ledger the transaction would land in."""

    ledger_sequence: int
    close_time: int
    base_fee: int
    base_reserve: int


def op_type(op: Operation) -> xdr.OperationType:
    return xdr.OperationType(type(op)._XDR_OPERATION_TYPE)


def threshold_level(op: Operation) -> str:
    """Which of the source account's thresholds an operation needs."""
    cached = _LEVEL_BY_TYPE.get(type(op))
    if cached is not None:
        return cached
    if isinstance(op, SetOptions):
        changes_auth = (
            op.master_weight is not None
            or op.low_threshold is not None
            or op.med_threshold is not None
            or op.high_threshold is not None
            or op.signer is not None
        )
        return HIGH if changes_auth else MEDIUM
    if isinstance(op, AccountMerge):
        return HIGH
    if isinstance(op, _LOW_THRESHOLD_OPS):
        return LOW
    return MEDIUM


_LEVEL_BY_TYPE: dict[type, str] = {Payment: MEDIUM, CreateAccount: MEDIUM}


def minimum_fee(ptx: ParsedTransaction, base_fee: int) -> int:
    """The least the fee payer may bid: base fee per operation (+1 for a fee bump)."""
    return base_fee * ptx.fee_operations


def check_transaction(
    ptx: ParsedTransaction,
    accounts: LedgerView,
    ctx: LedgerContext,
    *,
    sequence_offset: int = 0,
    fees_already_queued: int = 0,
) -> Rejection | None:
    """Run the ledger-entry checks; None means the transaction may be applied.

    `sequence_offset` counts earlier transactions from the same source queued for the same
    ledger; `fees_already_queued` is what the fee payer has already bid on queued ones.
    """
    if ptx.fee_bump is None:
        return _check_inner(ptx, accounts, ctx, sequence_offset, fees_already_queued, True)
    bump = ptx.fee_bump
    if ptx.max_fee < minimum_fee(ptx, ctx.base_fee) or (
        # The outer bid per operation must not be below the inner one (CAP-15).
        ptx.operations
        and ptx.max_fee * len(ptx.operations) < ptx.inner_max_fee * ptx.fee_operations
    ):
        return Rejection("tx_insufficient_fee", fee_charged=minimum_fee(ptx, ctx.base_fee))
    payer = accounts.peek(ptx.fee_source_id)
    if payer is None:
        return Rejection("tx_no_source_account")
    outer = SignatureChecker(bump.hash, bump.signatures)
    if not outer.check(account_signers(payer), payer.low_threshold):
        return Rejection("tx_bad_auth")
    if payer.available_balance(ctx.base_reserve) - fees_already_queued < ptx.max_fee:
        return Rejection("tx_insufficient_balance")
    inner = _check_inner(ptx, accounts, ctx, sequence_offset, 0, False)
    if inner is not None:
        return Rejection("tx_fee_bump_inner_failed", inner.op_outcomes, inner.tx_code)
    if not outer.all_used():
        return Rejection("tx_bad_auth_extra")
    return None


def _check_inner(
    ptx: ParsedTransaction,
    accounts: LedgerView,
    ctx: LedgerContext,
    sequence_offset: int,
    fees_already_queued: int,
    charge_fee: bool,
) -> Rejection | None:
    """The transaction's own checks; a fee bump's inner transaction is not charged a fee."""
    tx = ptx.tx
    if not ptx.operations:
        return Rejection("tx_missing_operation")
    if len(ptx.operations) > MAX_OPERATIONS:
        return Rejection("tx_malformed")
    if _unsupported_preconditions(ptx):
        return Rejection("tx_not_supported")
    timing = _check_bounds(ptx, ctx)
    if timing:
        return Rejection(timing)
    if charge_fee and ptx.max_fee < minimum_fee(ptx, ctx.base_fee):
        return Rejection("tx_insufficient_fee", fee_charged=minimum_fee(ptx, ctx.base_fee))
    source = accounts.peek(ptx.source_id)
    if source is None:
        return Rejection("tx_no_source_account")
    if tx.sequence != source.sequence + 1 + sequence_offset:
        return Rejection("tx_bad_seq")
    checker = SignatureChecker(ptx.inner_hash, list(ptx.envelope.signatures))
    if not checker.check(account_signers(source), source.low_threshold):
        return Rejection("tx_bad_auth")
    if charge_fee and (
        source.available_balance(ctx.base_reserve) - fees_already_queued < ptx.max_fee
    ):
        return Rejection("tx_insufficient_balance")
    for index, op in enumerate(ptx.operations):
        failure = _check_op_auth(ptx, op, accounts, checker) or _check_op_shape(ptx, op)
        if failure is not None:
            outcomes = [placeholder_success(op_type(o)) for o in ptx.operations]
            outcomes[index] = failure
            return Rejection("tx_failed", outcomes)
    if not checker.all_used():
        return Rejection("tx_bad_auth_extra")
    return None


def _unsupported_preconditions(ptx: ParsedTransaction) -> bool:
    pre = ptx.tx.preconditions
    if pre is None:
        return False
    return bool(
        pre.min_sequence_number is not None
        or pre.min_sequence_age
        or pre.min_sequence_ledger_gap
        or pre.extra_signers
    )


def _check_bounds(ptx: ParsedTransaction, ctx: LedgerContext) -> str | None:
    pre = ptx.tx.preconditions
    if pre is None:
        return None
    if pre.time_bounds is not None:
        if pre.time_bounds.min_time and ctx.close_time < pre.time_bounds.min_time:
            return "tx_too_early"
        if pre.time_bounds.max_time and ctx.close_time > pre.time_bounds.max_time:
            return "tx_too_late"
    if pre.ledger_bounds is not None:
        if ctx.ledger_sequence < pre.ledger_bounds.min_ledger:
            return "tx_too_early"
        if pre.ledger_bounds.max_ledger and ctx.ledger_sequence >= pre.ledger_bounds.max_ledger:
            return "tx_too_late"
    return None


def _check_op_auth(
    ptx: ParsedTransaction, op: Operation, accounts: LedgerView, checker: SignatureChecker
) -> OpOutcome | None:
    source_id = ptx.op_source_id(op)
    account = accounts.peek(source_id)
    if account is None:
        # An op whose source does not exist yet must at least be signed by that key.
        if checker.check([(source_id, 1)], 1):
            return None
        return results.op_level_outcome(xdr.OperationResultCode.opBAD_AUTH)
    if source_id == ptx.source_id and threshold_level(op) == LOW:
        return None  # the transaction-level check already reached the low threshold
    level = threshold_level(op)
    needed = {
        LOW: account.low_threshold,
        MEDIUM: account.med_threshold,
        HIGH: account.high_threshold,
    }[level]
    if not checker.check(account_signers(account), needed):
        return results.op_level_outcome(xdr.OperationResultCode.opBAD_AUTH)
    return None


def _malformed(op: Operation) -> OpOutcome:
    kind = op_type(op)
    names = {
        _OT.BUMP_SEQUENCE: xdr.BumpSequenceResultCode.BUMP_SEQUENCE_BAD_SEQ,
    }
    code = names.get(kind)
    if code is None:
        code = next(c for c in results.codes_of(kind) if c.name.endswith("_MALFORMED"))
    return results.inner_outcome(kind, code)


def _check_op_shape(ptx: ParsedTransaction, op: Operation) -> OpOutcome | None:
    """stellar-core's doCheckValid: malformed operations are refused at submit time."""
    source_id = ptx.op_source_id(op)
    if isinstance(op, CreateAccount):
        if op.destination == source_id:
            return results.inner_outcome(_OT.CREATE_ACCOUNT, _CA.CREATE_ACCOUNT_MALFORMED)
    elif isinstance(op, Payment):
        if stroops(op.amount) <= 0 or not _valid_asset(op.asset):
            return results.inner_outcome(_OT.PAYMENT, _PAY.PAYMENT_MALFORMED)
    elif isinstance(op, ChangeTrust):
        asset = op.asset
        if isinstance(asset, Asset) and (asset.is_native() or asset.issuer == source_id):
            return results.inner_outcome(_OT.CHANGE_TRUST, _CT.CHANGE_TRUST_MALFORMED)
    elif isinstance(op, SetOptions):
        return _check_set_options_shape(op, source_id)
    elif isinstance(op, ManageData):
        name = op.data_name
        if not name or not name.isprintable():
            return results.inner_outcome(_OT.MANAGE_DATA, _MD.MANAGE_DATA_INVALID_NAME)
    elif _is_malformed(op, source_id):
        return _malformed(op)
    return None


def _is_malformed(op: Operation, source_id: str) -> bool:
    amount = stroops
    if isinstance(op, CreateClaimableBalance):
        destinations = [c.destination for c in op.claimants]
        return (
            amount(op.amount) <= 0
            or not _valid_asset(op.asset)
            or not destinations
            or len(set(destinations)) != len(destinations)
            or not all(predicate_is_valid(c.predicate) for c in op.claimants)
        )
    if isinstance(op, PathPaymentStrictSend):
        return (
            amount(op.send_amount) <= 0
            or amount(op.dest_min) <= 0
            or not all(_valid_asset(a) for a in (op.send_asset, op.dest_asset, *op.path))
        )
    if isinstance(op, PathPaymentStrictReceive):
        return (
            amount(op.dest_amount) <= 0
            or amount(op.send_max) <= 0
            or not all(_valid_asset(a) for a in (op.send_asset, op.dest_asset, *op.path))
        )
    if isinstance(op, AccountMerge):
        return op.destination.account_id == source_id
    if isinstance(op, BumpSequence):
        return op.bump_to < 0
    if isinstance(op, AllowTrust):
        authorize = int(op.authorize)
        return (
            op.trustor == source_id
            or not op.asset_code.isalnum()
            or authorize not in (0, AUTHORIZED_FLAG, AUTHORIZED_TO_MAINTAIN_LIABILITIES_FLAG)
        )
    if isinstance(op, SetTrustLineFlags):
        set_flags, clear_flags = int(op.set_flags or 0), int(op.clear_flags or 0)
        known = AUTHORIZED_FLAG | AUTHORIZED_TO_MAINTAIN_LIABILITIES_FLAG
        known |= TRUSTLINE_CLAWBACK_ENABLED_FLAG
        both = AUTHORIZED_FLAG | AUTHORIZED_TO_MAINTAIN_LIABILITIES_FLAG
        return (
            op.asset.is_native()
            or op.asset.issuer != source_id
            or op.trustor == source_id
            or bool(set_flags & clear_flags)
            or bool((set_flags | clear_flags) & ~known)
            or bool(set_flags & TRUSTLINE_CLAWBACK_ENABLED_FLAG)
            or set_flags & both == both
        )
    if isinstance(op, Clawback):
        return (
            amount(op.amount) <= 0
            or op.asset.is_native()
            or op.asset.issuer != source_id
            or op.from_.account_id == source_id
        )
    return False


def _check_set_options_shape(op: SetOptions, source_id: str) -> OpOutcome | None:
    def fail(code: xdr.SetOptionsResultCode) -> OpOutcome:
        return results.inner_outcome(_OT.SET_OPTIONS, code)

    set_flags = int(op.set_flags or 0)
    clear_flags = int(op.clear_flags or 0)
    if (set_flags | clear_flags) & ~ALL_ACCOUNT_FLAGS:
        return fail(_SO.SET_OPTIONS_UNKNOWN_FLAG)
    if set_flags & clear_flags:
        return fail(_SO.SET_OPTIONS_BAD_FLAGS)
    for value in (op.master_weight, op.low_threshold, op.med_threshold, op.high_threshold):
        if value is not None and not 0 <= value <= 255:
            return fail(_SO.SET_OPTIONS_THRESHOLD_OUT_OF_RANGE)
    if op.signer is not None:
        if op.signer.signer_key.encoded_signer_key == source_id:
            return fail(_SO.SET_OPTIONS_BAD_SIGNER)
        if not 0 <= op.signer.weight <= 255:
            return fail(_SO.SET_OPTIONS_THRESHOLD_OUT_OF_RANGE)
        if op.signer.signer_key.encoded_signer_key[0] not in "GTX":
            return fail(_SO.SET_OPTIONS_BAD_SIGNER)
    if op.home_domain is not None and not op.home_domain.isprintable():
        return fail(_SO.SET_OPTIONS_INVALID_HOME_DOMAIN)
    return None


def _valid_asset(asset: Asset) -> bool:
    return asset.is_native() or bool(asset.code and asset.code.isalnum())
