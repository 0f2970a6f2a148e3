"""SEP-10 HTTP endpoints: GET and POST on the WEB_AUTH_ENDPOINT."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from killick.context import Context
from killick.errors import bad_request
from killick.sep10.service import WebAuth

router = APIRouter(tags=["SEP-10"])


class ChallengeResponse(BaseModel):
    transaction: str
    network_passphrase: str


class TokenRequest(BaseModel):
    transaction: str


class TokenResponse(BaseModel):
    token: str


def web_auth(request: Request) -> WebAuth:
    state = request.app.state
    if getattr(state, "web_auth", None) is None:
        state.web_auth = WebAuth(state.killick)
    return state.web_auth  # type: ignore[no-any-return]


@router.get("", response_model=ChallengeResponse, summary="Get a challenge transaction")
async def get_challenge(
    request: Request,
    account: Annotated[str, Query(description="G... or M... account to authenticate")],
    memo: Annotated[str | None, Query(description="id memo for a shared account")] = None,
    home_domain: Annotated[str | None, Query()] = None,
    client_domain: Annotated[str | None, Query()] = None,
) -> ChallengeResponse:
    service = web_auth(request)
    xdr = await service.challenge(account, memo, home_domain, client_domain)
    return ChallengeResponse(transaction=xdr, network_passphrase=service.passphrase)


async def _transaction_from_body(request: Request) -> str:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        try:
            body = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError):
            raise bad_request("request body is not valid JSON") from None
        value = body.get("transaction") if isinstance(body, dict) else None
    elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        value = (await request.form()).get("transaction")
    else:
        raise bad_request("send transaction as application/json or form-encoded")
    if not isinstance(value, str) or not value:
        raise bad_request("transaction: required, a base64 XDR string")
    return value


@router.post(
    "",
    response_model=TokenResponse,
    summary="Exchange a signed challenge for a session token",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"schema": TokenRequest.model_json_schema()},
                "application/x-www-form-urlencoded": {"schema": TokenRequest.model_json_schema()},
            },
            "required": True,
        }
    },
)
async def post_challenge(request: Request) -> TokenResponse:
    xdr = await _transaction_from_body(request)
    context: Context = request.app.state.killick
    async with context.sessions() as session:
        token = await web_auth(request).token(session, xdr)
    return TokenResponse(token=token)
