"""The SEP-12 customer endpoints: parse, check ownership, call the integration, answer.

Database sessions are short and never held while the anchor's hook runs.
"""

from __future__ import annotations

import traceback
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from killick.errors import APIError
from killick.sep10.auth import sep12_token
from killick.sep10.token import SEP10Token
from killick.sep12.answers import HookMistake, customer_body, customer_id
from killick.sep12.bodies import query_params, read_body
from killick.sep12.callbacks import checked_url, set_callback
from killick.sep12.fields import FILE_ID_SUFFIX, VERIFICATION_SUFFIX, FieldError, shown
from killick.sep12.hooks import call_customer_hook, hook_failure, log
from killick.sep12.identity import Identity, resolve
from killick.sep12.requests import (
    catalog_of,
    check_transaction,
    context_of,
    customer_type,
    language,
    limits_of,
    owned_customer,
)
from killick.sep12.status import record_status
from killick.sep12.store import (
    claim_customer,
    customers_of,
    file_owner,
    forget_principal,
)

router = APIRouter(tags=["SEP-12"])

CONTROL = ("id", "account", "memo", "memo_type", "type", "transaction_id", "lang")


def _split(params: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    control = {name: params[name] for name in CONTROL if name in params}
    rest = {name: value for name, value in params.items() if name not in CONTROL}
    return control, rest


def _checked_body(
    hook: str, answer: Any, request: Request, expected_id: str | None
) -> dict[str, Any]:
    try:
        return customer_body(answer, catalog_of(context_of(request)), expected_id=expected_id)
    except HookMistake as mistake:
        raise hook_failure(hook, str(mistake)) from None


async def _adopt(request: Request, identity: Identity, new_id: str, hook: str) -> str:
    """The owner of an id the hook answered with; an unrecorded one becomes the caller's."""
    async with context_of(request).sessions() as session:
        owner = await claim_customer(session, new_id, identity.principal)
        await session.commit()
    if not identity.owns(owner):
        raise hook_failure(hook, "answered with a customer id another principal owns")
    return owner


async def _record(request: Request, owner: str, body: dict[str, Any], kind: str | None) -> None:
    """Record the status the wallet is about to see. If that fails (a listener's bug, the
    database), the change is rolled back whole and noticed again on the next request; the
    wallet still gets its answer."""
    try:
        async with context_of(request).sessions() as session:
            await record_status(
                session, principal=owner, customer_id=body["id"], customer_type=kind, body=body
            )
            await session.commit()
    except Exception as error:  # messages may quote values: log the type and frames only
        frames = "".join(traceback.format_tb(error.__traceback__))
        log.error(
            "customer %s: status change not recorded (%s); retried on the next request\n%s",
            body["id"],
            type(error).__name__,
            frames,
        )


@router.get("/customer", summary="A customer's KYC status and the fields still needed")
async def get_customer(request: Request, token: SEP10Token = Depends(sep12_token)) -> Any:
    params = query_params(request)
    identity = resolve(token, params)
    wanted = params.get("id") or None
    kind = customer_type(params)
    owner = None
    async with context_of(request).sessions() as session:
        if wanted:
            owner = await owned_customer(session, identity, wanted)
        transaction_id = await check_transaction(session, identity, params, kind)
    hook_params = {
        "id": wanted,
        **identity.hook_params(),
        "type": kind,
        "transaction_id": transaction_id,
        "lang": language(params),
    }
    try:
        answer = await call_customer_hook("get", token, request, hook_params)
    except APIError as error:
        if error.status_code == 404 and wanted is None:
            raise hook_failure(
                "get", "raised CustomerNotFound without an id; answer NEEDS_INFO with fields"
            ) from None
        raise
    body = _checked_body("get", answer, request, wanted)
    if "id" in body:
        owner = owner or await _adopt(request, identity, body["id"], "get")
        await _record(request, owner, body, kind)
    return JSONResponse(body)


async def _refresh_status(
    request: Request, token: SEP10Token, hook_params: dict[str, Any], owner: str
) -> None:
    """After a PUT, ask the integration for the status; a failure only delays noticing."""
    try:
        answer = await call_customer_hook("get", token, request, hook_params)
        body = _checked_body("get", answer, request, hook_params["id"])
    except APIError as error:
        log.warning(
            "customer %s: status not refreshed after PUT (get answered %s)",
            hook_params["id"],
            error.status_code,
        )
        return
    await _record(request, owner, body, hook_params["type"])


async def _check_file_ids(request: Request, identity: Identity, fields: dict[str, Any]) -> None:
    async with context_of(request).sessions() as session:
        for name, file_id in fields.items():
            if name.endswith(FILE_ID_SUFFIX):
                owner = await file_owner(session, file_id)
                if owner is None or not identity.owns(owner):
                    raise APIError(400, f"{shown(name)}: no such file uploaded by this account")


@router.put("/customer", status_code=202, summary="Create or update a customer (idempotent)")
async def put_customer(request: Request, token: SEP10Token = Depends(sep12_token)) -> Any:
    context = context_of(request)
    body = await read_body(request, limits_of(context))
    control, rest = _split(body.text)
    try:
        fields = catalog_of(context).check(rest, body.files)
    except FieldError as error:
        raise APIError(400, str(error)) from None
    identity = resolve(token, control)
    wanted = control.get("id") or None
    kind = customer_type(control)
    owner = None
    async with context.sessions() as session:
        if wanted:
            owner = await owned_customer(session, identity, wanted)
        transaction_id = await check_transaction(session, identity, control, kind)
    await _check_file_ids(request, identity, fields)
    base = {**identity.hook_params(), "type": kind, "transaction_id": transaction_id}
    answer = await call_customer_hook("put", token, request, {**fields, "id": wanted, **base})
    try:
        new_id = customer_id(answer, what="put()'s answer (the customer id)")
    except HookMistake as mistake:
        raise hook_failure("put", str(mistake)) from None
    if wanted and new_id != wanted:
        raise hook_failure("put", "answered with another customer id than the one updated")
    owner = owner or await _adopt(request, identity, new_id, "put")
    await _refresh_status(request, token, {"id": new_id, **base, "lang": "en"}, owner)
    return JSONResponse({"id": new_id}, status_code=202)


@router.delete("/customer/{account}", summary="Erase a customer's personal data")
async def delete_customer(
    account: str, request: Request, token: SEP10Token = Depends(sep12_token)
) -> Any:
    body = await read_body(request, limits_of(context_of(request)))
    if body.files:
        raise APIError(400, "DELETE /customer takes no files")
    if account not in (token.account, token.muxed_account):
        raise APIError(404, "customer not found for this account")
    identity = resolve(token, {**body.text, "account": account})
    await call_customer_hook(
        "delete",
        token,
        request,
        identity.account,
        identity.memo,
        identity.memo_type,
        not_found="customer not found for this account",
    )
    async with context_of(request).sessions() as session:
        await forget_principal(session, identity.principal)
        await session.commit()
    log.info("customer data of %s deleted", identity.principal)
    return JSONResponse({})


@router.put("/customer/callback", summary="Where to POST this customer's status changes")
async def put_callback(request: Request, token: SEP10Token = Depends(sep12_token)) -> Any:
    context = context_of(request)
    body = await read_body(request, limits_of(context))
    if body.files:
        raise APIError(400, "PUT /customer/callback takes no files")
    url = checked_url(body.text.get("url"), local_mode=context.settings.LOCAL_MODE)
    identity = resolve(token, body.text)
    wanted = body.text.get("id") or None
    async with context.sessions() as session:
        if wanted:
            owner = await owned_customer(session, identity, wanted)
        else:
            owner = identity.principal
            if not await customers_of(session, owner):
                raise APIError(404, "no customer for this account yet: PUT /customer first")
    hook_params = {"url": url, "id": wanted, **identity.hook_params()}
    await call_customer_hook("callback", token, request, hook_params)
    async with context.sessions() as session:
        await set_callback(session, owner, url)
        await session.commit()
    return JSONResponse({})


@router.put(
    "/customer/verification",
    summary="Confirm fields with codes (deprecated: send *_verification to PUT /customer)",
    deprecated=True,
)
async def put_verification(request: Request, token: SEP10Token = Depends(sep12_token)) -> Any:
    context = context_of(request)
    body = await read_body(request, limits_of(context))
    control, rest = _split(body.text)
    wanted = control.get("id") or None
    if wanted is None:
        raise APIError(400, "id: is required")
    not_codes = [name for name in rest if not name.endswith(VERIFICATION_SUFFIX)]
    if not_codes or body.files or not rest:
        raise APIError(400, "send only id and one or more <field>_verification codes")
    try:
        codes = catalog_of(context).check(rest, {})
    except FieldError as error:
        raise APIError(400, str(error)) from None
    identity = resolve(token, control)
    kind = customer_type(control)
    async with context.sessions() as session:
        owner = await owned_customer(session, identity, wanted)
    hook_params = {"id": wanted, **identity.hook_params(), "type": kind, **codes}
    answer = await call_customer_hook("put_verification", token, request, hook_params)
    checked = _checked_body("put_verification", answer, request, wanted)
    if "id" not in checked:
        raise hook_failure("put_verification", "the answer must carry the customer id")
    await _record(request, owner, checked, kind)
    return JSONResponse(checked)
