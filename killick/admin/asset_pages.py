"""Admin pages for assets: list, create, edit fees, limits and flags (``sep6_enabled``).

Every change goes through ``killick.assets.create_asset``/``update_asset``, the one home
of asset rules; a broken rule shows the form again with its message and changes nothing.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy import select as sql_select
from starlette.responses import RedirectResponse, Response

from killick.admin.auth import AdminSession
from killick.admin.common import admin_auth, checked_form, context, router, signed_in
from killick.admin.html import e, field, hidden_csrf, message, page, table
from killick.assets import AMOUNT_FIELDS, FLAG_FIELDS, AssetError, create_asset, update_asset
from killick.models import Asset


def _form(
    session_csrf: str, action: str, asset: Asset | None, values: dict[str, Any], error: str | None
) -> str:
    def value(name: str) -> Any:
        if name in values:
            return values[name]
        return getattr(asset, name) if asset is not None else None

    identity = (
        f"<p>Asset <code>{e(asset.code)}:{e(asset.issuer)}</code></p>"
        if asset is not None
        else field("Code", "code", value("code"), extra=" required")
        + field("Issuer", "issuer", value("issuer"), extra=' required placeholder="G..."')
    )
    amounts = "".join(
        f"<p>{field(name, name, value(name), extra=' inputmode=decimal')}</p>"
        for name in AMOUNT_FIELDS
    )
    flags = "".join(
        f'<label><input type="checkbox" name="{name}" value="1"'
        f"{' checked' if value(name) else ''}> {name}</label>"
        for name in FLAG_FIELDS
    )
    return (
        message(error)
        + f'<form method="post" action="{e(action)}" id="asset">'
        + hidden_csrf(session_csrf)
        + identity
        + "<p>"
        + field("Distribution account", "distribution_account", value("distribution_account"))
        + field(
            "Distribution seed (stored encrypted; never shown)",
            "distribution_seed",
            None,
            kind="password",
            extra=' autocomplete="off"',
        )
        + "</p><p>"
        + field(
            "Significant decimals",
            "significant_decimals",
            value("significant_decimals"),
            kind="number",
            extra=' min="0" max="7"',
        )
        + field("Symbol", "symbol", value("symbol"))
        + field("Name", "name", value("name"))
        + "</p>"
        + amounts
        + f"<p>{flags}</p>"
        + '<button type="submit">Save</button></form>'
    )


def _values(form: dict[str, Any]) -> dict[str, Any]:
    """The form as create_asset/update_asset arguments (blank amounts clear the value)."""
    values: dict[str, Any] = {name: (form.get(name) or None) for name in AMOUNT_FIELDS}
    values.update({name: form.get(name) == "1" for name in FLAG_FIELDS})
    for name in ("symbol", "name"):
        if form.get(name):
            values[name] = form[name]
    decimals = form.get("significant_decimals")
    if decimals not in (None, ""):
        try:
            values["significant_decimals"] = int(decimals)
        except ValueError:
            values["significant_decimals"] = decimals  # the rule says what is wrong
    for name in ("distribution_account", "distribution_seed"):
        if form.get(name):
            values[name] = form[name]
    return values


def _csrf(request: Request, session: AdminSession) -> str:
    return admin_auth(request).csrf_token(session)


@router.get("/assets")
async def assets(request: Request) -> Response:
    session = signed_in(request)
    if isinstance(session, Response):
        return session
    async with context(request).sessions() as db:
        rows = (await db.scalars(sql_select(Asset).order_by(Asset.code, Asset.id))).all()
    listing = table(
        ("Code", "Issuer", "Distribution", "Flags", "Deposit fee", "Withdrawal fee", ""),
        (
            (
                e(row.code),
                f"<code>{e(row.issuer)}</code>",
                f"<code>{e(row.distribution_account)}</code>",
                e(", ".join(f.removesuffix("_enabled") for f in FLAG_FIELDS if getattr(row, f))),
                e(f"{row.deposit_fee_fixed or 0} + {row.deposit_fee_percent or 0}%"),
                e(f"{row.withdrawal_fee_fixed or 0} + {row.withdrawal_fee_percent or 0}%"),
                f'<a href="/admin/assets/{row.id}">Edit</a>',
            )
            for row in rows
        ),
        table_id="assets",
    )
    body = '<p><a href="/admin/assets/new">Add an asset</a></p>' + (
        listing if rows else "<p>No assets yet.</p>"
    )
    return page("Assets", body, csrf=_csrf(request, session))


@router.get("/assets/new")
async def new_asset(request: Request) -> Response:
    session = signed_in(request)
    if isinstance(session, Response):
        return session
    csrf = _csrf(request, session)
    return page("Add an asset", _form(csrf, "/admin/assets", None, {}, None), csrf=csrf)


@router.post("/assets")
async def create(request: Request) -> Response:
    session = signed_in(request)
    if isinstance(session, Response):
        return session
    form = await checked_form(request, session)
    if isinstance(form, Response):
        return form
    csrf = _csrf(request, session)
    ctx = context(request)
    values = _values(form)
    try:
        async with ctx.sessions() as db:
            created = await create_asset(
                db,
                ctx.cipher,
                code=str(form.get("code") or "").strip(),
                issuer=str(form.get("issuer") or "").strip(),
                **values,
            )
            await db.commit()
    except AssetError as error:
        shown = {**form, **{k: v for k, v in values.items() if k != "distribution_seed"}}
        body = _form(csrf, "/admin/assets", None, shown, str(error))
        return page("Add an asset", body, csrf=csrf, status_code=400)
    return RedirectResponse(f"/admin/assets/{created.id}?saved=1", status_code=303)


async def _asset_or_404(request: Request, asset_id: int, csrf: str) -> Asset | Response:
    async with context(request).sessions() as db:
        found = await db.get(Asset, asset_id)
    if found is None:
        return page("Not found", message(f"no asset {asset_id}"), csrf=csrf, status_code=404)
    return found


@router.get("/assets/{asset_id}")
async def edit_asset(request: Request, asset_id: int) -> Response:
    session = signed_in(request)
    if isinstance(session, Response):
        return session
    csrf = _csrf(request, session)
    found = await _asset_or_404(request, asset_id, csrf)
    if isinstance(found, Response):
        return found
    note = message("Saved.", "note") if request.query_params.get("saved") else ""
    body = note + _form(csrf, f"/admin/assets/{asset_id}", found, {}, None)
    return page(f"Asset {found.code}", body, csrf=csrf)


@router.post("/assets/{asset_id}")
async def save_asset(request: Request, asset_id: int) -> Response:
    session = signed_in(request)
    if isinstance(session, Response):
        return session
    form = await checked_form(request, session)
    if isinstance(form, Response):
        return form
    csrf = _csrf(request, session)
    ctx = context(request)
    values = _values(form)
    async with ctx.sessions() as db:
        found = await db.get(Asset, asset_id)
        if found is None:
            return page("Not found", message(f"no asset {asset_id}"), csrf=csrf, status_code=404)
        try:
            await update_asset(db, ctx.cipher, found, **values)
            await db.commit()
        except AssetError as error:  # update_asset changed nothing
            shown = {k: v for k, v in values.items() if k != "distribution_seed"}
            body = _form(csrf, f"/admin/assets/{asset_id}", found, shown, str(error))
            return page(f"Asset {found.code}", body, csrf=csrf, status_code=400)
    return RedirectResponse(f"/admin/assets/{asset_id}?saved=1", status_code=303)
