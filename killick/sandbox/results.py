"""TransactionResult XDR and the result-code strings Horizon derives from it."""

from __future__ import annotations

from dataclasses import dataclass

from stellar_sdk import xdr

_TX_CODES = {
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

_OP_LEVEL_CODES = {
    xdr.OperationResultCode.opBAD_AUTH: "op_bad_auth",
    xdr.OperationResultCode.opNO_ACCOUNT: "op_no_source_account",
    xdr.OperationResultCode.opNOT_SUPPORTED: "op_not_supported",
    xdr.OperationResultCode.opTOO_MANY_SUBENTRIES: "op_too_many_subentries",
}

_CA = xdr.CreateAccountResultCode
_PAY = xdr.PaymentResultCode
_CT = xdr.ChangeTrustResultCode
_SO = xdr.SetOptionsResultCode
_MD = xdr.ManageDataResultCode
_OT = xdr.OperationType

# operation type → (OperationResultTr attribute, result class, {code: horizon string})
_INNER: dict[xdr.OperationType, tuple[str, type, dict]] = {
    _OT.CREATE_ACCOUNT: (
        "create_account_result",
        xdr.CreateAccountResult,
        {
            _CA.CREATE_ACCOUNT_SUCCESS: "op_success",
            _CA.CREATE_ACCOUNT_MALFORMED: "op_malformed",
            _CA.CREATE_ACCOUNT_UNDERFUNDED: "op_underfunded",
            _CA.CREATE_ACCOUNT_LOW_RESERVE: "op_low_reserve",
            _CA.CREATE_ACCOUNT_ALREADY_EXIST: "op_already_exists",
        },
    ),
    _OT.PAYMENT: (
        "payment_result",
        xdr.PaymentResult,
        {
            _PAY.PAYMENT_SUCCESS: "op_success",
            _PAY.PAYMENT_MALFORMED: "op_malformed",
            _PAY.PAYMENT_UNDERFUNDED: "op_underfunded",
            _PAY.PAYMENT_SRC_NO_TRUST: "op_src_no_trust",
            _PAY.PAYMENT_SRC_NOT_AUTHORIZED: "op_src_not_authorized",
            _PAY.PAYMENT_NO_DESTINATION: "op_no_destination",
            _PAY.PAYMENT_NO_TRUST: "op_no_trust",
            _PAY.PAYMENT_NOT_AUTHORIZED: "op_not_authorized",
            _PAY.PAYMENT_LINE_FULL: "op_line_full",
            _PAY.PAYMENT_NO_ISSUER: "op_no_issuer",
        },
    ),
    _OT.CHANGE_TRUST: (
        "change_trust_result",
        xdr.ChangeTrustResult,
        {
            _CT.CHANGE_TRUST_SUCCESS: "op_success",
            _CT.CHANGE_TRUST_MALFORMED: "op_malformed",
            _CT.CHANGE_TRUST_NO_ISSUER: "op_no_issuer",
            _CT.CHANGE_TRUST_INVALID_LIMIT: "op_invalid_limit",
            _CT.CHANGE_TRUST_LOW_RESERVE: "op_low_reserve",
            _CT.CHANGE_TRUST_SELF_NOT_ALLOWED: "op_self_not_allowed",
            _CT.CHANGE_TRUST_CANNOT_DELETE: "op_cannot_delete",
        },
    ),
    _OT.SET_OPTIONS: (
        "set_options_result",
        xdr.SetOptionsResult,
        {
            _SO.SET_OPTIONS_SUCCESS: "op_success",
            _SO.SET_OPTIONS_LOW_RESERVE: "op_low_reserve",
            _SO.SET_OPTIONS_TOO_MANY_SIGNERS: "op_too_many_signers",
            _SO.SET_OPTIONS_BAD_FLAGS: "op_bad_flags",
            _SO.SET_OPTIONS_INVALID_INFLATION: "op_invalid_inflation",
            _SO.SET_OPTIONS_CANT_CHANGE: "op_cant_change",
            _SO.SET_OPTIONS_UNKNOWN_FLAG: "op_unknown_flag",
            _SO.SET_OPTIONS_THRESHOLD_OUT_OF_RANGE: "op_out_of_range",
            _SO.SET_OPTIONS_BAD_SIGNER: "op_bad_signer",
            _SO.SET_OPTIONS_INVALID_HOME_DOMAIN: "op_invalid_home_domain",
            _SO.SET_OPTIONS_AUTH_REVOCABLE_REQUIRED: "op_auth_revocable_required",
        },
    ),
    _OT.MANAGE_DATA: (
        "manage_data_result",
        xdr.ManageDataResult,
        {
            _MD.MANAGE_DATA_SUCCESS: "op_success",
            _MD.MANAGE_DATA_NOT_SUPPORTED_YET: "op_not_supported_yet",
            _MD.MANAGE_DATA_NAME_NOT_FOUND: "op_data_name_not_found",
            _MD.MANAGE_DATA_LOW_RESERVE: "op_low_reserve",
            _MD.MANAGE_DATA_INVALID_NAME: "op_data_invalid_name",
        },
    ),
}


@dataclass(frozen=True)
class OpOutcome:
    """One operation's result: the XDR object and the string Horizon shows for it."""

    result: xdr.OperationResult
    code: str

    @property
    def success(self) -> bool:
        return self.code == "op_success"


def inner_outcome(op_type: xdr.OperationType, code: object) -> OpOutcome:
    """Result of an operation that ran (opINNER) with the type-specific `code`."""
    attr, result_class, names = _INNER[op_type]
    tr = xdr.OperationResultTr(type=op_type, **{attr: result_class(code=code)})
    return OpOutcome(xdr.OperationResult(code=xdr.OperationResultCode.opINNER, tr=tr), names[code])


def op_level_outcome(code: xdr.OperationResultCode) -> OpOutcome:
    """Result of an operation that did not run (bad auth, no source account, not supported)."""
    return OpOutcome(xdr.OperationResult(code=code), _OP_LEVEL_CODES[code])


def not_supported() -> OpOutcome:
    return op_level_outcome(xdr.OperationResultCode.opNOT_SUPPORTED)


def transaction_result_xdr(
    fee_charged: int, tx_code: str, op_outcomes: list[OpOutcome] | None = None
) -> str:
    """Base64 TransactionResult; operation results are only encoded for tx_success/tx_failed."""
    code = TX_CODE_BY_NAME[tx_code]
    results = None
    if code in (xdr.TransactionResultCode.txSUCCESS, xdr.TransactionResultCode.txFAILED):
        results = [o.result for o in op_outcomes or []]
    result = xdr.TransactionResult(
        fee_charged=xdr.Int64(fee_charged),
        result=xdr.TransactionResultResult(code=code, results=results),
        ext=xdr.TransactionResultExt(v=0),
    )
    return result.to_xdr()
