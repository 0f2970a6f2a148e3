"""Horizon's HTTP endpoints, answered from a SandboxNetwork."""

from __future__ import annotations

import base64
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from stellar_sdk import StrKey

from .. import __version__
from . import problems
from .assets import asset_records
from .balances import balance_json, balance_records
from .claims import normalize_balance_id
from .history import OperationRecord, TransactionRecord, page
from .listing import Collection, op_filter, parse_list_query, tx_filter
from .network import PROTOCOL_VERSION, SandboxNetwork
from .rates import canonical_asset
from .records import (
    account_json,
    iso_time,
    ledger_json,
    operation_json,
    page_json,
    transaction_json,
)
from .streaming import STREAM_BATCH, event_stream

HAL_JSON = "application/hal+json; charset=utf-8"


def hal(body: dict[str, Any], status: int = 200) -> Response:
    return JSONResponse(body, status_code=status, media_type=HAL_JSON)


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _network(request: Request) -> SandboxNetwork:
    return request.app.state.network


def _wants_stream(request: Request) -> bool:
    return "text/event-stream" in request.headers.get("accept", "")


def _account_id(value: str, field: str = "account_id") -> str:
    if not StrKey.is_valid_ed25519_public_key(value):
        raise problems.bad_request(
            field, "Account ID must start with `G` and contain 56 alphanum characters"
        )
    return value


def _list(request: Request, collection: Collection) -> Response:
    """Answer a collection endpoint as a page, or as an SSE stream when asked for one."""
    network = _network(request)
    query = parse_list_query(request, network.latest_ledger.sequence)
    if _wants_stream(request):

        def fetch(cursor: int | None) -> list[dict[str, Any]]:
            return collection.fetch(cursor, descending=False, limit=STREAM_BATCH)

        return StreamingResponse(
            event_stream(network, fetch, query.cursor),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
    records = collection.fetch(query.cursor, descending=query.descending, limit=query.limit)
    return hal(
        page_json(
            base_url(request),
            request.url.path,
            records,
            cursor=query.cursor_text,
            limit=query.limit,
            descending=query.descending,
            extra_query=query.extra_query(),
        )
    )


def _tx_collection(request: Request, records: Any) -> Collection:
    include_failed = request.query_params.get("include_failed") == "true"
    base = base_url(request)
    return Collection(records, tx_filter(include_failed), lambda tx: transaction_json(tx, base))


def _op_collection(request: Request, records: Any, payments_only: bool) -> Collection:
    include_failed = request.query_params.get("include_failed") == "true"
    join = request.query_params.get("join") == "transactions"
    base = base_url(request)
    return Collection(
        records,
        op_filter(include_failed, payments_only),
        lambda op: operation_json(op, base, join),
    )


# ----- root and fees ----------------------------------------------------------------


async def root(request: Request) -> Response:
    network = _network(request)
    base = base_url(request)
    visible = network.history.ledger(network.visible_ledger_sequence())
    assert visible is not None
    templated = {"templated": True}
    return hal(
        {
            "_links": {
                "account": {"href": f"{base}/accounts/{{account_id}}", **templated},
                "accounts": {
                    "href": f"{base}/accounts{{?signer,sponsor,asset,cursor,limit,order}}",
                    **templated,
                },
                "assets": {
                    "href": f"{base}/assets{{?asset_code,asset_issuer,cursor,limit,order}}",
                    **templated,
                },
                "fee_stats": {"href": f"{base}/fee_stats"},
                "friendbot": {"href": f"{base}/friendbot{{?addr}}", **templated},
                "ledger": {"href": f"{base}/ledgers/{{sequence}}", **templated},
                "ledgers": {"href": f"{base}/ledgers{{?cursor,limit,order}}", **templated},
                "operation": {"href": f"{base}/operations/{{id}}", **templated},
                "operations": {
                    "href": f"{base}/operations{{?cursor,limit,order,include_failed}}",
                    **templated,
                },
                "payments": {
                    "href": f"{base}/payments{{?cursor,limit,order,include_failed}}",
                    **templated,
                },
                "self": {"href": f"{base}/"},
                "transaction": {"href": f"{base}/transactions/{{hash}}", **templated},
                "transactions": {
                    "href": f"{base}/transactions{{?cursor,limit,order}}",
                    **templated,
                },
            },
            "horizon_version": f"killick-sandbox-{__version__}",
            "core_version": f"killick-sandbox-{__version__} (no stellar-core)",
            "ingest_latest_ledger": visible.sequence,
            "history_latest_ledger": visible.sequence,
            "history_latest_ledger_closed_at": iso_time(visible.closed_at),
            "history_elder_ledger": 1,
            "core_latest_ledger": network.latest_ledger.sequence,
            "network_passphrase": network.network_passphrase,
            "current_protocol_version": PROTOCOL_VERSION,
            "supported_protocol_version": PROTOCOL_VERSION,
            "core_supported_protocol_version": PROTOCOL_VERSION,
        }
    )


async def fee_stats(request: Request) -> Response:
    """Horizon's fee statistics over the last 5 ledgers' transactions, per operation.

    As on the real network, `last_ledger_base_fee` is the ledger header's base fee (it does
    not move); surge pricing shows in `fee_charged` and in `ledger_capacity_usage`.
    """
    network = _network(request)
    latest = network.latest_ledger
    charged: list[int] = []
    bids: list[int] = []
    for tx in reversed(network.history.transactions):
        if tx.ledger <= latest.sequence - 5:
            break
        operations = tx.operation_count + (1 if tx.inner_hash else 0)
        charged.append(tx.fee_charged // operations)
        bids.append(tx.max_fee // operations)
    base_fee = latest.base_fee
    percentiles = (10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99)

    def stats(values: list[int]) -> dict[str, str]:
        values = sorted(values) or [base_fee]
        counts: dict[int, int] = {}
        for value in values:
            counts[value] = counts.get(value, 0) + 1
        out = {
            "max": str(values[-1]),
            "min": str(values[0]),
            "mode": str(max(counts, key=lambda v: (counts[v], -v))),
        }
        for p in percentiles:
            out[f"p{p}"] = str(values[min(len(values) - 1, (len(values) * p) // 100)])
        return out

    usage = latest.tx_set_operation_count / latest.max_tx_set_size
    return hal(
        {
            "last_ledger": str(latest.sequence),
            "last_ledger_base_fee": str(base_fee),
            "ledger_capacity_usage": f"{usage:.2f}",
            "fee_charged": stats(charged),
            "max_fee": stats(bids),
        }
    )


# ----- ledgers ----------------------------------------------------------------------


def _ledger_sequence(request: Request) -> int:
    raw = request.path_params["sequence"]
    try:
        sequence = int(raw)
    except ValueError:
        raise problems.bad_request("sequence", "sequence must be an integer") from None
    network = _network(request)
    if network.history.ledger(sequence) is None or sequence > network.visible_ledger_sequence():
        raise problems.not_found()
    return sequence


async def ledgers(request: Request) -> Response:
    network = _network(request)
    base = base_url(request)
    return _list(
        request,
        Collection(
            lambda: network.history.ledgers,
            lambda ledger: ledger.sequence <= network.visible_ledger_sequence(),
            lambda ledger: ledger_json(ledger, base),
        ),
    )


async def ledger(request: Request) -> Response:
    network = _network(request)
    record = network.history.ledger(_ledger_sequence(request))
    assert record is not None
    return hal(ledger_json(record, base_url(request)))


async def ledger_transactions(request: Request) -> Response:
    sequence = _ledger_sequence(request)
    network = _network(request)
    return _list(
        request,
        _in_ledger(_tx_collection(request, lambda: network.history.transactions), sequence),
    )


async def ledger_operations(request: Request) -> Response:
    return _ledger_ops(request, payments_only=False)


async def ledger_payments(request: Request) -> Response:
    return _ledger_ops(request, payments_only=True)


def _ledger_ops(request: Request, payments_only: bool) -> Response:
    sequence = _ledger_sequence(request)
    network = _network(request)
    collection = _op_collection(request, lambda: network.history.operations, payments_only)
    return _list(request, _in_ledger(collection, sequence))


def _in_ledger(collection: Collection, sequence: int) -> Collection:
    def keep(record: TransactionRecord | OperationRecord) -> bool:
        tx = record if isinstance(record, TransactionRecord) else record.transaction
        return tx.ledger == sequence and collection.keep(record)

    return Collection(collection.records, keep, collection.render)


# ----- accounts ---------------------------------------------------------------------


async def account(request: Request) -> Response:
    network = _network(request)
    found = network.visible_account(_account_id(request.path_params["account_id"]))
    if found is None:
        raise problems.not_found()
    return hal(account_json(found, base_url(request)))


async def account_data(request: Request) -> Response:
    network = _network(request)
    found = network.visible_account(_account_id(request.path_params["account_id"]))
    key = request.path_params["key"]
    if found is None or key not in found.data:
        raise problems.not_found()
    return hal({"value": base64.b64encode(found.data[key]).decode(), "sponsor": None})


async def account_transactions(request: Request) -> Response:
    network = _network(request)
    account_id = _account_id(request.path_params["account_id"])
    return _list(
        request,
        _tx_collection(request, lambda: network.history.tx_by_account.get(account_id, [])),
    )


async def account_operations(request: Request) -> Response:
    return _account_ops(request, payments_only=False)


async def account_payments(request: Request) -> Response:
    return _account_ops(request, payments_only=True)


def _account_ops(request: Request, payments_only: bool) -> Response:
    network = _network(request)
    account_id = _account_id(request.path_params["account_id"])
    return _list(
        request,
        _op_collection(
            request, lambda: network.history.ops_by_account.get(account_id, []), payments_only
        ),
    )


# ----- transactions and operations --------------------------------------------------


async def transactions(request: Request) -> Response:
    network = _network(request)
    return _list(request, _tx_collection(request, lambda: network.history.transactions))


async def submit_transaction(request: Request) -> Response:
    network = _network(request)
    envelope = await _form_value(request, "tx")
    if not envelope:
        raise problems.bad_request("tx", "Transaction envelope is required (form field `tx`)")
    record = await network.submit(envelope)
    return hal(transaction_json(record, base_url(request)))


async def _form_value(request: Request, name: str) -> str | None:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        try:
            body = json.loads(await request.body() or b"{}")
        except json.JSONDecodeError:
            raise problems.bad_request(name, "body is not valid JSON") from None
        value = body.get(name) if isinstance(body, dict) else None
        return value if isinstance(value, str) else None
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(name)
        if isinstance(value, str):
            return value
    return request.query_params.get(name)


async def transaction(request: Request) -> Response:
    network = _network(request)
    tx_hash = request.path_params["tx_hash"].lower()
    record = network.visible_transaction(tx_hash)
    if record is None:
        raise problems.not_found()
    return hal(transaction_json(record, base_url(request), tx_hash))


async def submit_transaction_async(request: Request) -> Response:
    """Horizon's async submission: core's verdict now (PENDING, DUPLICATE, ERROR, …)."""
    network = _network(request)
    envelope = await _form_value(request, "tx")
    if not envelope:
        raise problems.bad_request("tx", "Transaction envelope is required (form field `tx`)")
    status, body = network.submit_async(envelope)
    return JSONResponse(body, status_code=status)


async def transaction_operations(request: Request) -> Response:
    return _tx_ops(request, payments_only=False)


async def transaction_payments(request: Request) -> Response:
    return _tx_ops(request, payments_only=True)


def _tx_ops(request: Request, payments_only: bool) -> Response:
    network = _network(request)
    record = network.visible_transaction(request.path_params["tx_hash"].lower())
    if record is None:
        raise problems.not_found()
    collection = _op_collection(
        request, lambda: network.history.ops_by_tx[record.hash], payments_only
    )
    # Operations of one transaction are shown even when it failed, as Horizon does.
    keep_all = Collection(
        collection.records,
        lambda op: (not payments_only) or op.is_payment,
        collection.render,
    )
    return _list(request, keep_all)


async def operations(request: Request) -> Response:
    network = _network(request)
    return _list(
        request, _op_collection(request, lambda: network.history.operations, payments_only=False)
    )


async def payments(request: Request) -> Response:
    network = _network(request)
    return _list(
        request, _op_collection(request, lambda: network.history.operations, payments_only=True)
    )


async def operation(request: Request) -> Response:
    network = _network(request)
    try:
        op_id = int(request.path_params["op_id"])
    except ValueError:
        raise problems.bad_request("id", "operation id must be an integer") from None
    found = page(network.history.operations, cursor=op_id - 1, descending=False, limit=1)
    if not found or found[0].id != op_id:
        raise problems.not_found()
    join = request.query_params.get("join") == "transactions"
    return hal(operation_json(found[0], base_url(request), join))


# ----- assets, claimable balances, friendbot ----------------------------------------


async def assets(request: Request) -> Response:
    network = _network(request)
    query = parse_list_query(request, network.latest_ledger.sequence)
    code = request.query_params.get("asset_code") or None
    issuer = request.query_params.get("asset_issuer") or None
    if issuer is not None:
        _account_id(issuer)
    cursor = request.query_params.get("cursor") or None
    records = asset_records(
        network.accounts,
        base_url(request),
        code=code,
        issuer=issuer,
        balances=network.claimable_balances,
        cursor=cursor,
        descending=query.descending,
        limit=query.limit,
    )
    extra = {k: v for k, v in (("asset_code", code), ("asset_issuer", issuer)) if v}
    return hal(
        page_json(
            base_url(request),
            request.url.path,
            records,
            cursor=cursor or "",
            limit=query.limit,
            descending=query.descending,
            extra_query=extra,
        )
    )


async def claimable_balances(request: Request) -> Response:
    network = _network(request)
    query = parse_list_query(request, network.latest_ledger.sequence, token_cursor=True)
    params = request.query_params
    claimant = params.get("claimant") or None
    sponsor = params.get("sponsor") or None
    for name, value in (("claimant", claimant), ("sponsor", sponsor)):
        if value is not None:
            _account_id(value, name)
    asset = params.get("asset") or None
    if asset is not None:
        try:
            asset = canonical_asset(asset)
        except ValueError:
            raise problems.bad_request("asset", "asset must be native or CODE:ISSUER") from None
    records = balance_records(
        network,
        base_url(request),
        claimant=claimant,
        asset=asset,
        sponsor=sponsor,
        cursor=query.cursor_text or None,
        descending=query.descending,
        limit=query.limit,
    )
    extra = {k: v for k, v in (("claimant", claimant), ("asset", asset), ("sponsor", sponsor)) if v}
    return hal(
        page_json(
            base_url(request),
            request.url.path,
            records,
            cursor=query.cursor_text,
            limit=query.limit,
            descending=query.descending,
            extra_query=extra,
        )
    )


async def claimable_balance(request: Request) -> Response:
    network = _network(request)
    balance_id = normalize_balance_id(request.path_params["balance_id"])
    if balance_id is None:
        raise problems.bad_request("id", "claimable balance id must be hex (00000000…)")
    found = network.claimable_balances.get(balance_id)
    if found is None:
        raise problems.not_found()
    return hal(balance_json(network, found, base_url(request)))


async def friendbot(request: Request) -> Response:
    network = _network(request)
    address = await _form_value(request, "addr") if request.method == "POST" else None
    address = address or request.query_params.get("addr")
    if not address or not StrKey.is_valid_ed25519_public_key(address):
        raise problems.bad_request("addr", "addr must be a valid G… account id")
    record = await network.friendbot(address)
    return hal(transaction_json(record, base_url(request)))


routes = [
    Route("/", root),
    Route("/fee_stats", fee_stats),
    Route("/ledgers", ledgers),
    Route("/ledgers/{sequence}", ledger),
    Route("/ledgers/{sequence}/transactions", ledger_transactions),
    Route("/ledgers/{sequence}/operations", ledger_operations),
    Route("/ledgers/{sequence}/payments", ledger_payments),
    Route("/accounts/{account_id}", account),
    Route("/accounts/{account_id}/data/{key}", account_data),
    Route("/accounts/{account_id}/transactions", account_transactions),
    Route("/accounts/{account_id}/operations", account_operations),
    Route("/accounts/{account_id}/payments", account_payments),
    Route("/transactions", transactions, methods=["GET"]),
    Route("/transactions", submit_transaction, methods=["POST"]),
    Route("/transactions_async", submit_transaction_async, methods=["POST"]),
    Route("/transactions/{tx_hash}", transaction),
    Route("/transactions/{tx_hash}/operations", transaction_operations),
    Route("/transactions/{tx_hash}/payments", transaction_payments),
    Route("/operations", operations),
    Route("/operations/{op_id}", operation),
    Route("/payments", payments),
    Route("/assets", assets),
    Route("/claimable_balances", claimable_balances),
    Route("/claimable_balances/{balance_id}", claimable_balance),
    Route("/friendbot", friendbot, methods=["GET", "POST"]),
]
