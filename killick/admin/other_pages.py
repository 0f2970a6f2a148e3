"""Admin pages: logging in and out, unmatched incoming payments, customers (masked)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import Request
from sqlalchemy import select as sql_select
from starlette.responses import RedirectResponse, Response

from killick.admin.common import admin_auth, checked_form, context, router, signed_in
from killick.admin.html import e, field, message, page, table
from killick.integrations import call_hook, registry
from killick.models import UnmatchedPayment

log = logging.getLogger(__name__)

CUSTOMERS_PAGE = 50
UNMATCHED_LIMIT = 200
# Shown as they are; every other value a customer listing returns is masked.
CUSTOMER_PLAIN = ("id", "status", "account", "memo", "type", "created_at")


def mask(value: Any) -> str:
    """``ab••••yz``-style: enough to recognise a value, not to read it."""
    text = "" if value is None else str(value)
    if len(text) <= 4:
        return "••••" if text else ""
    if len(text) < 10:
        return text[0] + "••••"
    return text[:2] + "••••" + text[-2:]


def _login_page(request: Request, error: str | None = None, status_code: int = 200) -> Response:
    auth = admin_auth(request)
    token = auth.login_token(request)
    body = (
        message(error)
        + '<form method="post" action="/admin/login" id="login">'
        + f'<input type="hidden" name="csrf" value="{e(token)}">'
        + "<p>"
        + field("Your name (recorded on the changes you make)", "name", extra=' maxlength="40"')
        + "</p><p>"
        + field("Password", "password", kind="password", extra=" required autofocus")
        + '</p><button type="submit">Log in</button></form>'
    )
    response = page("Log in", body, status_code=status_code)
    auth.remember_login_token(response, token)
    return response


@router.get("/login")
async def login_form(request: Request) -> Response:
    if admin_auth(request).current(request) is not None:
        return RedirectResponse("/admin/transactions", status_code=303)
    return _login_page(request)


@router.post("/login")
async def login(request: Request) -> Response:
    auth = admin_auth(request)
    form = await request.form()
    if not auth.login_token_ok(request, form.get("csrf")):
        return _login_page(request, "The form expired; try again.", status_code=403)
    if not auth.password_matches(str(form.get("password") or "")):
        log.warning("admin: failed login from %s", request.client.host if request.client else "?")
        await asyncio.sleep(1)  # slows guessing; the password should be long anyway
        return _login_page(request, "Wrong password.", status_code=401)
    response = RedirectResponse("/admin/transactions", status_code=303)
    name = str(form.get("name") or "")
    auth.start(response, name)
    log.info("admin: %s logged in", name or "an operator")
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    session = signed_in(request)
    if isinstance(session, Response):
        return session
    form = await checked_form(request, session)
    if isinstance(form, Response):
        return form
    response = RedirectResponse("/admin/login", status_code=303)
    admin_auth(request).end(response)
    return response


@router.get("/unmatched")
async def unmatched(request: Request) -> Response:
    session = signed_in(request)
    if isinstance(session, Response):
        return session
    async with context(request).sessions() as db:
        query = (
            sql_select(UnmatchedPayment).order_by(UnmatchedPayment.id.desc()).limit(UNMATCHED_LIMIT)
        )
        rows = (await db.scalars(query)).all()
    listing = table(
        ("Received (UTC)", "To", "From", "Amount", "Asset", "Memo", "Why", "Stellar hash"),
        (
            (
                e(f"{row.received_at:%Y-%m-%d %H:%M:%S}"),
                f"<code>{e(row.account)}</code>",
                f"<code>{e(row.from_address)}</code>",
                e(row.amount),
                e(row.asset_code or "XLM"),
                e(f"{row.memo} ({row.memo_type})" if row.memo else None),
                e(row.reason) + (" (refunded)" if row.refunded_at else ""),
                f"<code>{e(row.stellar_transaction_id)}</code>",
            )
            for row in rows
        ),
        table_id="unmatched",
    )
    body = f"<p>Incoming payments no withdrawal took, newest {UNMATCHED_LIMIT} first.</p>" + (
        listing if rows else "<p>None.</p>"
    )
    return page("Unmatched payments", body, csrf=admin_auth(request).csrf_token(session))


@router.get("/customers")
async def customers(request: Request) -> Response:
    session = signed_in(request)
    if isinstance(session, Response):
        return session
    csrf = admin_auth(request).csrf_token(session)
    try:
        number = max(1, int(request.query_params.get("page") or 1))
    except ValueError:
        number = 1
    try:
        found = await call_hook(
            registry.customer.list_customers, (number - 1) * CUSTOMERS_PAGE, CUSTOMERS_PAGE
        )
    except NotImplementedError:
        body = (
            "<p>The customer integration does not list customers (the anchor keeps that "
            "data). Implement <code>CustomerIntegration.list_customers</code> to see them "
            "here, masked.</p>"
        )
        return page("Customers", body, csrf=csrf)
    except Exception:
        log.exception("admin: the customer integration's list_customers failed")
        return page(
            "Customers", message("list_customers failed; see the log."), csrf=csrf, status_code=502
        )
    rows = [dict(item) for item in (found or []) if isinstance(item, dict)]
    extra = sorted({key for row in rows for key in row} - set(CUSTOMER_PLAIN))
    headings = [*CUSTOMER_PLAIN, *extra]
    listing = table(
        headings,
        (
            [e(row.get(k)) for k in CUSTOMER_PLAIN] + [e(mask(row.get(k))) for k in extra]
            for row in rows
        ),
        table_id="customers",
    )
    pager = f'<a href="?page={number + 1}">Next</a>' if len(rows) == CUSTOMERS_PAGE else ""
    body = (listing if rows else "<p>No customers.</p>") + f"<p>{pager}</p>"
    return page("Customers", body, csrf=csrf)
