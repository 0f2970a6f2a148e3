"""The SEP-6 HTTP layer: parse, authenticate, call the domain, serialise."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from killick.context import Context
from killick.errors import APIError
from killick.money import as_json_number
from killick.sep6 import checks, listing
from killick.sep6.body import request_values
from killick.sep6.checks import ParamError
from killick.sep6.directions import (
    DEPOSIT,
    DEPOSIT_EXCHANGE,
    DIRECTIONS,
    WITHDRAW,
    WITHDRAW_EXCHANGE,
    Direction,
)
from killick.sep6.exchange import parse_exchange
from killick.sep6.fees import fee_for
from killick.sep6.hook_answers import HookAnswerError
from killick.sep6.info import Info, current_info
from killick.sep6.openapi import PATCH_BODY, body_schema, query_parameters
from killick.sep6.params import find_asset, parse_transfer
from killick.sep6.patch import patch_transaction
from killick.sep6.transfer import hook_failure, start_transfer
from killick.sep10 import SEP10Token, sep6_token
from killick.transaction_json import transaction_object

router = APIRouter(tags=["SEP-6"])

Token = Annotated[SEP10Token, Depends(sep6_token)]
Lang = Annotated[str | None, Query(description="RFC 4646 language tag (default en)")]
AUTH_FAILED = {403: {"description": 'No valid SEP-10 token: {"type": "authentication_required"}'}}


def _context(request: Request) -> Context:
    return request.app.state.killick


async def _info(context: Context, request: Request, lang: str) -> Info:
    try:
        return await current_info(context, request, lang)
    except HookAnswerError:
        raise hook_failure() from None  # logged where it was found


@router.get("/info", summary="What this anchor supports (SEP-6)")
async def info(request: Request, lang: Lang = None) -> Response:
    context = _context(request)
    chosen = checks.language("lang", lang, context.settings)
    document = await _info(context, request, chosen)
    return Response(document.body, media_type="application/json")


@router.get("/fee", summary="The fee for a deposit or withdrawal (deprecated in SEP-6)")
async def fee(
    request: Request,
    operation: Annotated[Literal["deposit", "withdraw"], Query()],
    asset_code: Annotated[str, Query(description="Stellar asset code")],
    amount: Annotated[str, Query(description="Amount to deposit or withdraw")],
    type: Annotated[str | None, Query(description="Deposit or withdrawal type")] = None,
    lang: Lang = None,
) -> dict[str, Any]:
    context = _context(request)
    direction = DIRECTIONS[operation]
    chosen = checks.language("lang", lang, context.settings)
    document = await _info(context, request, chosen)
    snapshot = await context.catalog.current()
    raw = {"asset_code": asset_code}
    asset, _entry = find_asset(raw, direction, document, snapshot.assets)
    low, high = direction.limits(asset)
    value = checks.asset_amount("amount", checks.amount("amount", amount), asset, low, high)
    method = checks.text("type", type, 64) if type else None
    try:
        charged = await fee_for(direction, asset, value, method)
    except ValueError as error:
        raise APIError(400, str(error) or "the anchor refused this request") from None
    except HookAnswerError:
        raise hook_failure() from None
    return {"fee": as_json_number(charged)}


async def _start(request: Request, token: SEP10Token, direction: Direction) -> JSONResponse:
    context = _context(request)
    raw = await request_values(request)
    lang = checks.language("lang", raw.get("lang") or None, context.settings)
    document = await _info(context, request, lang)
    snapshot = await context.catalog.current()
    transfer = parse_transfer(
        raw,
        direction,
        token=token,
        settings=context.settings,
        info=document,
        assets=snapshot.assets,
    )
    async with context.sessions() as session:
        body = await start_transfer(session, context.settings, token, request, transfer)
    return JSONResponse(body)


async def _start_exchange(
    request: Request, token: SEP10Token, direction: Direction
) -> JSONResponse:
    context = _context(request)
    raw = await request_values(request)
    lang = checks.language("lang", raw.get("lang") or None, context.settings)
    document = await _info(context, request, lang)
    snapshot = await context.catalog.current()
    transfer, terms = await parse_exchange(
        context, request, token, raw, direction, info=document, assets=snapshot.assets
    )
    async with context.sessions() as session:
        body = await start_transfer(session, context.settings, token, request, transfer, terms)
    return JSONResponse(body)


_TRANSFER_RESPONSES: dict[int | str, dict[str, Any]] = {
    **AUTH_FAILED,
    400: {"description": 'A parameter is missing or wrong: {"error": "<name>: ..."}'},
}


@router.get(
    "/deposit",
    summary="Start a deposit",
    openapi_extra={"parameters": query_parameters("deposit")},
    responses=_TRANSFER_RESPONSES,
)
async def deposit(request: Request, token: Token) -> JSONResponse:
    return await _start(request, token, DEPOSIT)


@router.post(
    "/deposit",
    summary="Start a deposit (the SEP-6 guide's POST form of GET /deposit)",
    openapi_extra=body_schema("deposit"),
    responses=_TRANSFER_RESPONSES,
)
async def deposit_post(request: Request, token: Token) -> JSONResponse:
    return await _start(request, token, DEPOSIT)


@router.get(
    "/withdraw",
    summary="Start a withdrawal",
    openapi_extra={"parameters": query_parameters("withdraw")},
    responses=_TRANSFER_RESPONSES,
)
async def withdraw(request: Request, token: Token) -> JSONResponse:
    return await _start(request, token, WITHDRAW)


@router.post(
    "/withdraw",
    summary="Start a withdrawal (the SEP-6 guide's POST form of GET /withdraw)",
    openapi_extra=body_schema("withdraw"),
    responses=_TRANSFER_RESPONSES,
)
async def withdraw_post(request: Request, token: Token) -> JSONResponse:
    return await _start(request, token, WITHDRAW)


@router.get(
    "/deposit-exchange",
    summary="Start a deposit of one asset for another (SEP-38 quote or market rate)",
    openapi_extra={"parameters": query_parameters("deposit-exchange")},
    responses=_TRANSFER_RESPONSES,
)
async def deposit_exchange(request: Request, token: Token) -> JSONResponse:
    return await _start_exchange(request, token, DEPOSIT_EXCHANGE)


@router.post(
    "/deposit-exchange",
    summary="Start a deposit exchange (POST form of GET /deposit-exchange)",
    openapi_extra=body_schema("deposit-exchange"),
    responses=_TRANSFER_RESPONSES,
)
async def deposit_exchange_post(request: Request, token: Token) -> JSONResponse:
    return await _start_exchange(request, token, DEPOSIT_EXCHANGE)


@router.get(
    "/withdraw-exchange",
    summary="Start a withdrawal of one asset for another (SEP-38 quote or market rate)",
    openapi_extra={"parameters": query_parameters("withdraw-exchange")},
    responses=_TRANSFER_RESPONSES,
)
async def withdraw_exchange(request: Request, token: Token) -> JSONResponse:
    return await _start_exchange(request, token, WITHDRAW_EXCHANGE)


@router.post(
    "/withdraw-exchange",
    summary="Start a withdrawal exchange (POST form of GET /withdraw-exchange)",
    openapi_extra=body_schema("withdraw-exchange"),
    responses=_TRANSFER_RESPONSES,
)
async def withdraw_exchange_post(request: Request, token: Token) -> JSONResponse:
    return await _start_exchange(request, token, WITHDRAW_EXCHANGE)


@router.get(
    "/transactions", summary="The caller's transactions, newest first", responses=AUTH_FAILED
)
async def transactions(
    request: Request,
    token: Token,
    asset_code: Annotated[str, Query(description="Code of the asset")],
    account: Annotated[str | None, Query(description="Must be the authenticated account")] = None,
    kind: Annotated[list[Literal[listing.KINDS]] | None, Query(description="Repeatable")] = None,  # type: ignore[valid-type]
    limit: Annotated[int | None, Query(ge=1, description="At most this many")] = None,
    no_older_than: Annotated[str | None, Query(description="UTC ISO 8601 time")] = None,
    paging_id: Annotated[str | None, Query(description="Only those before this id")] = None,
    lang: Lang = None,
) -> dict[str, Any]:
    context = _context(request)
    checks.language("lang", lang, context.settings)
    checks.text("asset_code", asset_code, 12)
    if account is not None and account not in (token.account, token.muxed_account):
        raise ParamError("account", "must be the authenticated account")
    since = checks.timestamp("no_older_than", no_older_than) if no_older_than else None
    cursor = checks.text("paging_id", paging_id, 64) if paging_id else None
    snapshot = await context.catalog.current()
    asset_ids = [asset.id for asset in snapshot.assets if asset.code == asset_code]
    if not asset_ids:
        raise ParamError("asset_code", f"{asset_code!r} is not an asset of this anchor")
    async with context.sessions() as session:
        found = await listing.history(
            session,
            token.principal,
            asset_ids,
            kinds=tuple(kind or ()),
            no_older_than=since,
            paging_id=cursor,
            limit=min(limit or listing.MAX_PAGE, listing.MAX_PAGE),
        )
    return {"transactions": [transaction_object(txn) for txn in found]}


@router.get("/transaction", summary="One of the caller's transactions", responses=AUTH_FAILED)
async def transaction(
    request: Request,
    token: Token,
    id: Annotated[str | None, Query(description="The transaction id")] = None,
    stellar_transaction_id: Annotated[str | None, Query()] = None,
    external_transaction_id: Annotated[str | None, Query()] = None,
    lang: Lang = None,
) -> dict[str, Any]:
    context = _context(request)
    checks.language("lang", lang, context.settings)
    keys = {
        "id": id,
        "stellar_transaction_id": stellar_transaction_id,
        "external_transaction_id": external_transaction_id,
    }
    given = {name: checks.text(name, value) for name, value in keys.items() if value}
    if not given:
        raise ParamError(
            "id", "one of id, stellar_transaction_id or external_transaction_id is required"
        )
    async with context.sessions() as session:
        found = await listing.find_one(session, token.principal, **given)
    if found is None:
        raise APIError(404, "transaction not found")
    return {"transaction": transaction_object(found)}


@router.patch(
    "/transactions/{transaction_id}",
    summary="Update fields the anchor asked for (pending_transaction_info_update)",
    openapi_extra=PATCH_BODY,
    responses={**AUTH_FAILED, 404: {"description": "No such transaction of the caller"}},
)
async def update_transaction(request: Request, token: Token, transaction_id: str) -> dict[str, Any]:
    context = _context(request)
    checks.text("transaction_id", transaction_id, 64)
    try:
        body = json.loads(await request.body() or b"null")
    except (ValueError, UnicodeDecodeError):
        raise ParamError("request body", "is not valid JSON") from None
    async with context.sessions() as session:
        updated = await patch_transaction(session, token, request, transaction_id, body)
    return {"transaction": transaction_object(updated)}
