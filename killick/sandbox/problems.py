"""Horizon "problem" bodies (RFC 7807), raised as exceptions and rendered by the app."""

from __future__ import annotations

from typing import Any

_TYPE_PREFIX = "https://stellar.org/horizon-errors/"

NOT_FOUND_DETAIL = (
    "The resource at the url requested was not found.  This usually occurs for one of two "
    "reasons:  The url requested is not valid, or no data in our database could be found with "
    "the parameters provided."
)
TX_FAILED_DETAIL = (
    "The transaction failed when submitted to the stellar network. The `extras.result_codes` "
    "field on this response contains further details.  Descriptions of each code can be found "
    "at: https://developers.stellar.org/docs/data/apis/horizon/api-reference/errors/"
    "result-codes/transactions"
)


class HorizonProblem(Exception):
    """An error answer in Horizon's problem format; the HTTP layer renders it as JSON."""

    def __init__(
        self,
        status: int,
        type_: str,
        title: str,
        detail: str,
        extras: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {type_}: {detail}")
        self.status = status
        self.type = type_
        self.title = title
        self.detail = detail
        self.extras = extras
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """The JSON body Horizon would send."""
        body: dict[str, Any] = {
            "type": _TYPE_PREFIX + self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.extras is not None:
            body["extras"] = self.extras
        return body


def not_found() -> HorizonProblem:
    return HorizonProblem(404, "not_found", "Resource Missing", NOT_FOUND_DETAIL)


def bad_request(field: str, reason: str) -> HorizonProblem:
    return HorizonProblem(
        400,
        "bad_request",
        "Bad Request",
        "The request you sent was invalid in some way.",
        {"invalid_field": field, "reason": reason},
    )


def transaction_malformed(envelope_xdr: str) -> HorizonProblem:
    return HorizonProblem(
        400,
        "transaction_malformed",
        "Transaction Malformed",
        "Horizon could not decode the transaction envelope in this request. A transaction "
        "should be an XDR TransactionEnvelope struct encoded using base64.  The envelope read "
        "from this request is echoed in the `extras.envelope_xdr` field of this response for "
        "your convenience.",
        {"envelope_xdr": envelope_xdr},
    )


def transaction_failed(
    envelope_xdr: str,
    result_xdr: str,
    tx_code: str,
    op_codes: list[str] | None,
    inner_code: str | None = None,
) -> HorizonProblem:
    """Horizon's 400 for a refused or failed transaction; fee bumps add `inner_transaction`."""
    codes: dict[str, Any] = {"transaction": tx_code}
    if inner_code is not None:
        codes["inner_transaction"] = inner_code
    if op_codes is not None:
        codes["operations"] = op_codes
    return HorizonProblem(
        400,
        "transaction_failed",
        "Transaction Failed",
        TX_FAILED_DETAIL,
        {"envelope_xdr": envelope_xdr, "result_codes": codes, "result_xdr": result_xdr},
    )


def timeout() -> HorizonProblem:
    return HorizonProblem(
        504,
        "timeout",
        "Timeout",
        "Your request timed out before completing.  Please try your request again. If you are "
        "submitting a transaction make sure you are sending exactly the same transaction (with "
        "the same sequence number).",
    )


def rate_limit_exceeded() -> HorizonProblem:
    return HorizonProblem(
        429,
        "rate_limit_exceeded",
        "Rate Limit Exceeded",
        "The rate limit for the requesting IP address is over its alloted limit.  The allotted "
        "limit and horizon's current rate limit are reported in the `X-RateLimit-*` headers.",
        headers={"Retry-After": "1"},
    )


def service_unavailable() -> HorizonProblem:
    return HorizonProblem(
        503,
        "service_unavailable",
        "Service Unavailable",
        "The request cannot be fulfilled due to overload or maintenance. Please try again later.",
        headers={"Retry-After": "1"},
    )


def method_not_allowed() -> HorizonProblem:
    return HorizonProblem(
        405,
        "method_not_allowed",
        "Method Not Allowed",
        "This endpoint does not support the request method you used.",
    )


def try_again_later() -> HorizonProblem:
    """Core could not queue the transaction now (its queue is full of better bids)."""
    return HorizonProblem(
        503,
        "transaction_submission_try_again_later",
        "Transaction Submission Try Again Later",
        "The transaction could not be accepted right now; resubmit it later.",
        headers={"Retry-After": "1"},
    )
