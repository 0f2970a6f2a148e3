"""Admin pages for transactions: the filtered list, one transaction, changing its status."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from fastapi import Request
from starlette.responses import RedirectResponse, Response

from killick.admin.common import admin_auth, checked_form, context, router, signed_in
from killick.admin.html import e, field, hidden_csrf, message, page, select, table
from killick.operator import (
    KINDS,
    STATUSES,
    OperatorError,
    TransactionFilter,
    allowed_moves,
    callback_state,
    events_of,
    get_transaction,
    list_transactions,
    parse_time,
    set_status,
)

PAGE_SIZE = 50
FILTERS = ("status", "kind", "asset", "account", "since", "until", "q")
DETAIL_FIELDS = (
    "id kind status message stellar_account muxed_account account_memo client_domain "
    "amount_expected amount_in amount_fee amount_out deposit_memo deposit_memo_type "
    "withdraw_anchor_account withdraw_memo withdraw_memo_type stellar_transaction_id "
    "external_transaction_id envelope_hash submission_attempts claimable_balance_id "
    "on_change_callback started_at updated_at completed_at user_action_required_by "
    "claimed_by claimed_until"
).split()


@router.get("")
async def home(request: Request) -> Response:
    return RedirectResponse("/admin/transactions", status_code=303)


@router.get("/transactions")
async def transactions(request: Request) -> Response:
    session = signed_in(request)
    if isinstance(session, Response):
        return session
    csrf = admin_auth(request).csrf_token(session)
    params = {name: (request.query_params.get(name) or "").strip() for name in FILTERS}
    try:
        page_number = max(1, int(request.query_params.get("page") or 1))
    except ValueError:
        page_number = 1
    error = None
    rows = []
    try:
        filters = TransactionFilter(
            status=params["status"] or None,
            kind=params["kind"] or None,
            asset=params["asset"] or None,
            account=params["account"] or None,
            since=parse_time(params["since"], "from"),
            until=parse_time(params["until"], "until"),
            search=params["q"] or None,
        )
        async with context(request).sessions() as db:
            rows = await list_transactions(
                db, filters, limit=PAGE_SIZE, offset=(page_number - 1) * PAGE_SIZE
            )
    except OperatorError as problem:
        error = str(problem)
    form = (
        '<form method="get" action="/admin/transactions" id="filters">'
        + select("Status", "status", ("", *STATUSES), params["status"])
        + select("Kind", "kind", ("", *KINDS), params["kind"])
        + field("Asset", "asset", params["asset"], extra=' placeholder="CODE or CODE:ISSUER"')
        + field("Account", "account", params["account"], extra=' placeholder="G..."')
        + field("From", "since", params["since"], kind="date")
        + field("Until", "until", params["until"], kind="date")
        + field("Search", "q", params["q"], extra=' placeholder="id, memo, Stellar hash"')
        + '<button type="submit">Filter</button></form>'
    )
    listing = table(
        ("Started (UTC)", "Id", "Kind", "Status", "Asset", "Amount in", "Amount out", "Account"),
        (
            (
                e(f"{row.started_at:%Y-%m-%d %H:%M:%S}"),
                f'<a href="/admin/transactions/{e(row.id)}">{e(row.id)}</a>',
                e(row.kind),
                e(row.status),
                e(row.asset.code),
                e(row.amount_in if row.amount_in is not None else row.amount_expected),
                e(row.amount_out),
                f"<code>{e(row.stellar_account)}</code>",
            )
            for row in rows
        ),
        table_id="transactions",
    )
    kept = {name: value for name, value in params.items() if value}
    pager = ""
    if page_number > 1:
        pager += f'<a href="?{e(urlencode({**kept, "page": page_number - 1}))}">Newer</a> '
    if len(rows) == PAGE_SIZE:
        pager += f'<a href="?{e(urlencode({**kept, "page": page_number + 1}))}">Older</a>'
    body = form + message(error) + (listing if rows else "<p>No transactions match.</p>")
    return page("Transactions", body + f"<p>{pager}</p>", csrf=csrf)


async def _detail(
    request: Request, transaction_id: str, *, error: str | None = None, note: str | None = None
) -> Response:
    session = signed_in(request)
    if isinstance(session, Response):
        return session
    csrf = admin_auth(request).csrf_token(session)
    async with context(request).sessions() as db:
        try:
            row = await get_transaction(db, transaction_id)
        except OperatorError as problem:
            return page("Not found", message(str(problem)), csrf=csrf, status_code=404)
        events = await events_of(db, row.id)
        moves = await allowed_moves(db, row)
    fields = table(
        ("Field", "Value"),
        [("asset", e(f"{row.asset.code}:{row.asset.issuer}"))]
        + [(e(name), e(getattr(row, name))) for name in DETAIL_FIELDS],
        table_id="fields",
    )
    history = table(
        ("#", "When (UTC)", "From", "To", "By", "Reason", "Callback"),
        (
            (
                e(event.id),
                e(f"{event.created_at:%Y-%m-%d %H:%M:%S}"),
                e(event.from_status or "new"),
                e(event.to_status),
                e(event.actor),
                e(event.reason),
                e(callback_state(event)),
            )
            for event in events
        ),
        table_id="events",
    )
    if moves:
        change = (
            f'<form method="post" action="/admin/transactions/{e(row.id)}/status" id="move">'
            + hidden_csrf(csrf)
            + select("New status", "status", moves)
            + field("Reason (kept on the event; no personal data)", "reason", extra=" required")
            + '<button type="submit">Change status</button></form>'
        )
    elif row.status == "pending_stellar":
        change = (
            "<p>Its payment envelope is unresolved on the network; the deposits loop resolves "
            "it. The status can change once the submission is applied or abandoned.</p>"
        )
    else:
        change = f"<p>{e(row.status)} is final: no move is possible.</p>"
    body = (
        message(error)
        + message(note, "note")
        + "<h2>Change status</h2>"
        + change
        + "<h2>Events</h2>"
        + history
        + "<h2>Fields</h2>"
        + fields
    )
    return page(f"Transaction {row.id}", body, csrf=csrf, status_code=400 if error else 200)


@router.get("/transactions/{transaction_id}")
async def transaction(request: Request, transaction_id: str) -> Response:
    moved = request.query_params.get("moved")
    note = f"Moved to {moved}." if moved in STATUSES else None
    return await _detail(request, transaction_id, note=note)


@router.post("/transactions/{transaction_id}/status")
async def change_status(request: Request, transaction_id: str) -> Response:
    session = signed_in(request)
    if isinstance(session, Response):
        return session
    form = await checked_form(request, session)
    if isinstance(form, Response):
        return form
    new_status = str(form.get("status") or "")
    try:
        async with context(request).sessions() as db:
            await set_status(
                db,
                transaction_id,
                new_status,
                reason=str(form.get("reason") or ""),
                actor=session.actor,
            )
            await db.commit()
    except OperatorError as problem:
        return await _detail(request, transaction_id, error=str(problem))
    query = urlencode({"moved": new_status})
    target = f"/admin/transactions/{quote(transaction_id, safe='')}?{query}"
    return RedirectResponse(target, status_code=303)
