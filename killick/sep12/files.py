"""``POST /customer/files`` and ``GET /customer/files`` (CHECKLIST S12-23/24).

Killick records which principal uploaded each file id, so a wallet lists and refers to
(``<field>_file_id`` in ``PUT /customer``) its own files only. ``GET`` always answers
200 with a list, empty for ids that are unknown or someone else's.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from killick.errors import APIError
from killick.sep10.auth import sep12_token
from killick.sep10.token import SEP10Token
from killick.sep12.answers import HookMistake, file_object
from killick.sep12.bodies import query_params, read_body
from killick.sep12.hooks import call_customer_hook, hook_failure
from killick.sep12.identity import resolve
from killick.sep12.requests import context_of, limits_of, owned_customer
from killick.sep12.store import claim_file, customers_of, file_owner, owner_of

router = APIRouter(tags=["SEP-12"])


@router.post("/customer/files", summary="Upload a file to refer to as <field>_file_id")
async def post_file(request: Request, token: SEP10Token = Depends(sep12_token)) -> Any:
    context = context_of(request)
    body = await read_body(request, limits_of(context))
    upload = body.files.get("file")
    if upload is None or len(body.files) > 1:
        raise APIError(400, "send one file as a multipart/form-data part named 'file'")
    identity = resolve(token, body.text)
    wanted = body.text.get("customer_id") or None
    async with context.sessions() as session:
        if wanted:
            owner = await owned_customer(session, identity, wanted)
        else:
            owner = identity.principal
            wanted = next(iter(await customers_of(session, owner)), None)
    answer = await call_customer_hook("post_file", token, request, upload, wanted)
    try:
        obj = file_object(answer)
    except HookMistake as mistake:
        raise hook_failure("post_file", str(mistake)) from None
    if obj["customer_id"] not in (None, wanted):
        raise hook_failure("post_file", "tied the file to another customer than the caller's")
    async with context.sessions() as session:
        recorded = await claim_file(session, obj["file_id"], owner, wanted)
        await session.commit()
    if recorded != owner:
        raise hook_failure("post_file", "answered with a file id another principal owns")
    return JSONResponse(obj)


@router.get("/customer/files", summary="Files uploaded by this account")
async def get_files(request: Request, token: SEP10Token = Depends(sep12_token)) -> Any:
    params = query_params(request)
    file_id = params.get("file_id") or None
    customer_id = params.get("customer_id") or None
    if file_id is None and customer_id is None:
        raise APIError(400, "give file_id or customer_id")
    identity = resolve(token, params)
    async with context_of(request).sessions() as session:
        owners = [
            await file_owner(session, file_id) if file_id else identity.principal,
            await owner_of(session, customer_id) if customer_id else identity.principal,
        ]
    if not all(owner is not None and identity.owns(owner) for owner in owners):
        return JSONResponse({"files": []})
    answer = await call_customer_hook("get_files", token, request, file_id, customer_id)
    try:
        if not isinstance(answer, list | tuple):
            raise HookMistake("the answer must be a list of file objects")
        files = [file_object(item) for item in answer]
    except HookMistake as mistake:
        raise hook_failure("get_files", str(mistake)) from None
    for obj in files:
        if (file_id and obj["file_id"] != file_id) or (
            customer_id and obj["customer_id"] not in (None, customer_id)
        ):
            raise hook_failure("get_files", "answered with files that were not asked for")
    return JSONResponse({"files": files})
