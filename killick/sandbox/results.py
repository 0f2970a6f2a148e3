"""TransactionResult XDR and the result-code strings Horizon derives from it."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from stellar_sdk import xdr

_TX_CODES = {
    xdr.TransactionResultCode.txFEE_BUMP_INNER_SUCCESS: "tx_fee_bump_inner_success",
    xdr.TransactionResultCode.txFEE_BUMP_INNER_FAILED: "tx_fee_bump_inner_failed",
    xdr.TransactionResultCode.txSUCCESS: "tx_success",
    xdr.TransactionResultCode.txFAILED: "tx_failed",
    xdr.TransactionResultCode.txTOO_EARLY: "tx_too_early",
    xdr.TransactionResultCode.txTOO_LATE: "tx_too_late",
    xdr.TransactionResultCode.txMISSING_OPERATION: "tx_missing_operation",
    xdr.TransactionResultCode.txBAD_SEQ: "tx_bad_seq",
    xdr.TransactionResultCode.txBAD_AUTH: "tx_bad_auth",
    xdr.TransactionResultCode.txINSUFFICIENT_BALANCE: "tx_insufficient_balance",
    xdr.TransactionResultCode.txNO_ACCOUNT: "tx_no_source_account",
    xdr.TransactionResultCode.txINSUFFICIENT_FEE: "tx_insufficient_fee",
    xdr.TransactionResultCode.txBAD_AUTH_EXTRA: "tx_bad_auth_extra",
    xdr.TransactionResultCode.txINTERNAL_ERROR: "tx_internal_error",
    xdr.TransactionResultCode.txNOT_SUPPORTED: "tx_not_supported",
    xdr.TransactionResultCode.txMALFORMED: "tx_malformed",
}
TX_CODE_BY_NAME = {name: code for code, name in _TX_CODES.items()}
_WITH_RESULTS = (
    xdr.TransactionResultCode.txSUCCESS,
    xdr.TransactionResultCode.txFAILED,
)

_OP_LEVEL_CODES = {
    xdr.OperationResultCode.opBAD_AUTH: "op_bad_auth",
    xdr.OperationResultCode.opNO_ACCOUNT: "op_no_source_account",
    xdr.OperationResultCode.opNOT_SUPPORTED: "op_not_supported",
    xdr.OperationResultCode.opTOO_MANY_SUBENTRIES: "op_too_many_subentries",
}

_OT = xdr.OperationType


def _names(codes: type[enum.Enum], prefix: str, **renamed: str) -> dict[Any, str]:
    """Horizon's strings for a result enum: CHANGE_TRUST_LOW_RESERVE → op_low_reserve."""
    out = {}
    for member in codes:
        short = member.name.removeprefix(prefix)
        out[member] = renamed.get(short, "op_" + short.lower())
    return out


# operation type → (OperationResultTr attribute, result class, {code: horizon string})
_INNER: dict[xdr.OperationType, tuple[str, type, dict]] = {
    _OT.CREATE_ACCOUNT: (
        "create_account_result",
        xdr.CreateAccountResult,
        _names(xdr.CreateAccountResultCode, "CREATE_ACCOUNT_", ALREADY_EXIST="op_already_exists"),
    ),
    _OT.PAYMENT: ("payment_result", xdr.PaymentResult, _names(xdr.PaymentResultCode, "PAYMENT_")),
    _OT.PATH_PAYMENT_STRICT_RECEIVE: (
        "path_payment_strict_receive_result",
        xdr.PathPaymentStrictReceiveResult,
        _names(
            xdr.PathPaymentStrictReceiveResultCode,
            "PATH_PAYMENT_STRICT_RECEIVE_",
            OVER_SENDMAX="op_over_source_max",
            OFFER_CROSS_SELF="op_cross_self",
        ),
    ),
    _OT.PATH_PAYMENT_STRICT_SEND: (
        "path_payment_strict_send_result",
        xdr.PathPaymentStrictSendResult,
        _names(
            xdr.PathPaymentStrictSendResultCode,
            "PATH_PAYMENT_STRICT_SEND_",
            UNDER_DESTMIN="op_under_dest_min",
            OFFER_CROSS_SELF="op_cross_self",
        ),
    ),
    _OT.CHANGE_TRUST: (
        "change_trust_result",
        xdr.ChangeTrustResult,
        _names(xdr.ChangeTrustResultCode, "CHANGE_TRUST_"),
    ),
    _OT.SET_OPTIONS: (
        "set_options_result",
        xdr.SetOptionsResult,
        _names(
            xdr.SetOptionsResultCode,
            "SET_OPTIONS_",
            THRESHOLD_OUT_OF_RANGE="op_out_of_range",
        ),
    ),
    _OT.MANAGE_DATA: (
        "manage_data_result",
        xdr.ManageDataResult,
        _names(
            xdr.ManageDataResultCode,
            "MANAGE_DATA_",
            NAME_NOT_FOUND="op_data_name_not_found",
            INVALID_NAME="op_data_invalid_name",
        ),
    ),
    _OT.ALLOW_TRUST: (
        "allow_trust_result",
        xdr.AllowTrustResult,
        _names(xdr.AllowTrustResultCode, "ALLOW_TRUST_", TRUST_NOT_REQUIRED="op_not_required"),
    ),
    _OT.SET_TRUST_LINE_FLAGS: (
        "set_trust_line_flags_result",
        xdr.SetTrustLineFlagsResult,
        _names(xdr.SetTrustLineFlagsResultCode, "SET_TRUST_LINE_FLAGS_"),
    ),
    _OT.ACCOUNT_MERGE: (
        "account_merge_result",
        xdr.AccountMergeResult,
        _names(xdr.AccountMergeResultCode, "ACCOUNT_MERGE_", SEQNUM_TOO_FAR="op_seq_num_too_far"),
    ),
    _OT.BUMP_SEQUENCE: (
        "bump_seq_result",
        xdr.BumpSequenceResult,
        _names(xdr.BumpSequenceResultCode, "BUMP_SEQUENCE_"),
    ),
    _OT.CREATE_CLAIMABLE_BALANCE: (
        "create_claimable_balance_result",
        xdr.CreateClaimableBalanceResult,
        _names(xdr.CreateClaimableBalanceResultCode, "CREATE_CLAIMABLE_BALANCE_"),
    ),
    _OT.CLAIM_CLAIMABLE_BALANCE: (
        "claim_claimable_balance_result",
        xdr.ClaimClaimableBalanceResult,
        _names(xdr.ClaimClaimableBalanceResultCode, "CLAIM_CLAIMABLE_BALANCE_"),
    ),
    _OT.CLAWBACK: (
        "clawback_result",
        xdr.ClawbackResult,
        _names(xdr.ClawbackResultCode, "CLAWBACK_"),
    ),
    _OT.CLAWBACK_CLAIMABLE_BALANCE: (
        "clawback_claimable_balance_result",
        xdr.ClawbackClaimableBalanceResult,
        _names(xdr.ClawbackClaimableBalanceResultCode, "CLAWBACK_CLAIMABLE_BALANCE_"),
    ),
}


@dataclass(frozen=True)
class OpOutcome:
    """One operation's result: the XDR object and the string Horizon shows for it."""

    result: xdr.OperationResult
    code: str
    details: dict[str, Any] | None = None
    """Record fields only known after applying (path payment amounts, balance ids)."""

    @property
    def success(self) -> bool:
        return self.code == "op_success"


def inner_outcome(
    op_type: xdr.OperationType,
    code: object,
    details: dict[str, Any] | None = None,
    **fields: Any,
) -> OpOutcome:
    """Result of an operation that ran (opINNER) with the type-specific `code`.

    `fields` go to the type's result class (e.g. `balance_id` for a created balance).
    """
    plain = not fields and details is None
    if plain:
        cached = _PLAIN_OUTCOMES.get((op_type, code))
        if cached is not None:
            return cached  # results are never mutated, and building XDR objects is slow
    attr, result_class, names = _INNER[op_type]
    tr = xdr.OperationResultTr(type=op_type, **{attr: result_class(code=code, **fields)})
    outcome = OpOutcome(
        xdr.OperationResult(code=xdr.OperationResultCode.opINNER, tr=tr), names[code], details
    )
    if plain:
        _PLAIN_OUTCOMES[(op_type, code)] = outcome
    return outcome


_PLAIN_OUTCOMES: dict[tuple[xdr.OperationType, Any], OpOutcome] = {}


def success_code(op_type: xdr.OperationType) -> Any:
    """The SUCCESS member of an operation type's result enum (value 0)."""
    _attr, _cls, names = _INNER[op_type]
    return next(code for code in names if code.value == 0)


def op_level_outcome(code: xdr.OperationResultCode) -> OpOutcome:
    """Result of an operation that did not run (bad auth, no source account, not supported)."""
    return OpOutcome(xdr.OperationResult(code=code), _OP_LEVEL_CODES[code])


def not_supported() -> OpOutcome:
    return op_level_outcome(xdr.OperationResultCode.opNOT_SUPPORTED)


@dataclass(frozen=True)
class InnerResult:
    """For a fee bump: the inner transaction's hash and code (its ops are in op_outcomes)."""

    hash: bytes
    tx_code: str


def _result_body(code: xdr.TransactionResultCode, op_outcomes: list[OpOutcome] | None) -> Any:
    return [o.result for o in op_outcomes or []] if code in _WITH_RESULTS else None


def transaction_result_xdr(
    fee_charged: int,
    tx_code: str,
    op_outcomes: list[OpOutcome] | None = None,
    inner: InnerResult | None = None,
) -> str:
    """Base64 TransactionResult; operation results are only encoded for tx_success/tx_failed.

    With `inner`, the result is a fee bump's: the outer code wraps an InnerTransactionResultPair
    whose own fee is 0 (the fee source paid it all).
    """
    code = TX_CODE_BY_NAME[tx_code]
    if inner is not None and code in (
        xdr.TransactionResultCode.txFEE_BUMP_INNER_SUCCESS,
        xdr.TransactionResultCode.txFEE_BUMP_INNER_FAILED,
    ):
        inner_code = TX_CODE_BY_NAME[inner.tx_code]
        pair = xdr.InnerTransactionResultPair(
            transaction_hash=xdr.Hash(inner.hash),
            result=xdr.InnerTransactionResult(
                fee_charged=xdr.Int64(0),
                result=xdr.InnerTransactionResultResult(
                    code=inner_code, results=_result_body(inner_code, op_outcomes)
                ),
                ext=xdr.InnerTransactionResultExt(v=0),
            ),
        )
        body = xdr.TransactionResultResult(code=code, inner_result_pair=pair)
    else:
        body = xdr.TransactionResultResult(code=code, results=_result_body(code, op_outcomes))
    result = xdr.TransactionResult(
        fee_charged=xdr.Int64(fee_charged),
        result=body,
        ext=xdr.TransactionResultExt(v=0),
    )
    return result.to_xdr()


def placeholder_success(op_type: xdr.OperationType) -> OpOutcome:
    """The all-defaults success result core reports for operations that passed the checks
    while another operation of a refused transaction did not."""
    if op_type not in _INNER:
        return not_supported()
    fields: dict[str, Any] = {}
    if op_type == _OT.CREATE_CLAIMABLE_BALANCE:
        fields["balance_id"] = xdr.ClaimableBalanceID(
            type=xdr.ClaimableBalanceIDType.CLAIMABLE_BALANCE_ID_TYPE_V0, v0=xdr.Hash(bytes(32))
        )
    elif op_type == _OT.ACCOUNT_MERGE:
        fields["source_account_balance"] = xdr.Int64(0)
    elif op_type in (_OT.PATH_PAYMENT_STRICT_RECEIVE, _OT.PATH_PAYMENT_STRICT_SEND):
        success_class = (
            xdr.PathPaymentStrictReceiveResultSuccess
            if op_type == _OT.PATH_PAYMENT_STRICT_RECEIVE
            else xdr.PathPaymentStrictSendResultSuccess
        )
        nobody = xdr.AccountID(
            xdr.PublicKey(xdr.PublicKeyType.PUBLIC_KEY_TYPE_ED25519, ed25519=xdr.Uint256(bytes(32)))
        )
        native = xdr.Asset(xdr.AssetType.ASSET_TYPE_NATIVE)
        fields["success"] = success_class(
            offers=[], last=xdr.SimplePaymentResult(nobody, native, xdr.Int64(0))
        )
    return inner_outcome(op_type, success_code(op_type), **fields)


def codes_of(op_type: xdr.OperationType) -> list[Any]:
    """Every result code of an operation type (to find its MALFORMED member)."""
    return list(_INNER[op_type][2])
