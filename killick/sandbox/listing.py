"""Collection queries shared by paged JSON answers and SSE streams."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from .history import OperationRecord, R, TransactionRecord, page, toid
from .problems import bad_request

DEFAULT_LIMIT = 10
MAX_LIMIT = 200


@dataclass
class ListQuery:
    cursor: int | None
    cursor_text: str
    descending: bool
    limit: int
    include_failed: bool
    join_transactions: bool

    def extra_query(self) -> dict[str, str]:
        extra = {}
        if self.include_failed:
            extra["include_failed"] = "true"
        if self.join_transactions:
            extra["join"] = "transactions"
        return extra


def parse_list_query(
    request: Request, latest_ledger: int, *, token_cursor: bool = False
) -> ListQuery:
    """Validate cursor/order/limit/include_failed/join like Horizon (400 bad_request).

    With `token_cursor` the cursor is an opaque paging token (left in `cursor_text`).
    """
    params = request.query_params
    raw_cursor = params.get("cursor", "")
    cursor: int | None
    if raw_cursor in ("", None) or token_cursor:
        cursor = None
    elif raw_cursor == "now":
        cursor = toid(latest_ledger + 1) - 1
    else:
        try:
            cursor = int(raw_cursor)
        except ValueError:
            raise bad_request("cursor", 'cursor must be a paging token or "now"') from None
        if cursor < 0:
            raise bad_request("cursor", "cursor must not be negative")
    order = params.get("order", "asc") or "asc"
    if order not in ("asc", "desc"):
        raise bad_request("order", 'order must be "asc" or "desc"')
    raw_limit = params.get("limit", "") or str(DEFAULT_LIMIT)
    try:
        limit = int(raw_limit)
    except ValueError:
        raise bad_request("limit", "limit must be an integer") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise bad_request("limit", f"limit must be between 1 and {MAX_LIMIT}")
    include_failed = _flag(params.get("include_failed"), "include_failed")
    join = params.get("join")
    if join not in (None, "", "transactions"):
        raise bad_request("join", 'join only accepts "transactions"')
    return ListQuery(
        cursor=cursor,
        cursor_text=raw_cursor if raw_cursor else "",
        descending=order == "desc",
        limit=limit,
        include_failed=include_failed,
        join_transactions=join == "transactions",
    )


def _flag(value: str | None, name: str) -> bool:
    if value in (None, "", "false"):
        return False
    if value == "true":
        return True
    raise bad_request(name, f"{name} must be true or false")


@dataclass
class Collection:
    """One list endpoint: its records, which of them to show, and how to render one."""

    records: Callable[[], list[Any]]
    keep: Callable[[Any], bool]
    render: Callable[[Any], dict[str, Any]]

    def fetch(self, cursor: int | None, *, descending: bool, limit: int) -> list[dict[str, Any]]:
        found = page(
            self.records(), cursor=cursor, descending=descending, limit=limit, keep=self.keep
        )
        return [self.render(r) for r in found]


def tx_filter(include_failed: bool) -> Callable[[TransactionRecord], bool]:
    return lambda tx: include_failed or tx.successful


def op_filter(include_failed: bool, payments_only: bool) -> Callable[[OperationRecord], bool]:
    def keep(op: OperationRecord) -> bool:
        if payments_only and not op.is_payment:
            return False
        return include_failed or op.transaction.successful

    return keep


__all__ = ["Collection", "ListQuery", "R", "op_filter", "parse_list_query", "tx_filter"]
