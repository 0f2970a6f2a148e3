"""The SEP-38 HTTP layer: parse, authenticate, call the domain, serialise.

Authentication is optional on /info, /prices and /price (a token, when sent, must be
valid) and required on /quote; a missing or bad token is 403 ``{"error"}`` (X-04).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from killick.context import Context
from killick.errors import APIError
from killick.sep10 import SEP10Token, sep38_optional_token, sep38_token
from killick.sep38 import openapi, requests
from killick.sep38.market import current_market
from killick.sep38.params import ParamError, text
from killick.sep38.prices import indicative_price, indicative_prices
from killick.sep38.quotes import create_quote, find_quote, quote_json

router = APIRouter(tags=["SEP-38"])

Token = Annotated[SEP10Token, Depends(sep38_token)]
OptionalToken = Annotated[SEP10Token | None, Depends(sep38_optional_token)]
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": 'A parameter is missing or wrong: {"error": "<name>: ..."}'},
    403: {"description": 'The token is missing (where required) or not valid: {"error"}'},
}


def _context(request: Request) -> Context:
    return request.app.state.killick


@router.get("/info", summary="The assets this anchor trades", responses=ERRORS)
async def info(request: Request, token: OptionalToken) -> Response:
    market = await current_market(_context(request))
    return Response(market.info_body, media_type="application/json")


@router.get(
    "/prices",
    summary="Indicative prices of every asset traded against one",
    responses=ERRORS,
    openapi_extra={"parameters": openapi.PRICES_PARAMETERS},
)
async def prices(request: Request, token: OptionalToken) -> dict[str, Any]:
    market = await current_market(_context(request))
    req = requests.prices_request(market, dict(request.query_params))
    return await indicative_prices(token, request, req)


@router.get(
    "/price",
    summary="Indicative price for one pair and amount",
    responses=ERRORS,
    openapi_extra={"parameters": openapi.PRICE_PARAMETERS},
)
async def price(request: Request, token: OptionalToken) -> dict[str, Any]:
    market = await current_market(_context(request))
    req = requests.price_request(market, dict(request.query_params))
    priced = await indicative_price(token, request, req)
    return priced.as_json()


@router.post(
    "/quote",
    summary="Ask for a firm quote (201)",
    status_code=201,
    responses=ERRORS,
    openapi_extra=openapi.QUOTE_BODY,
)
async def post_quote(request: Request, token: Token) -> JSONResponse:
    context = _context(request)
    market = await current_market(context)
    req = requests.quote_request(market, await requests.json_body(request))
    quote = await create_quote(context, token, request, req)
    return JSONResponse(quote_json(quote), status_code=201)


@router.get(
    "/quote/{quote_id}",
    summary="One of the caller's quotes (also after it expired)",
    responses={**ERRORS, 404: {"description": "No such quote of the caller"}},
)
async def get_quote(request: Request, token: Token, quote_id: str) -> dict[str, Any]:
    if len(quote_id) > 64:
        raise ParamError("id", "is not a quote id")
    text("id", quote_id, 64)
    async with _context(request).sessions() as session:
        quote = await find_quote(session, token.principal, quote_id)
    if quote is None:
        raise APIError(404, "quote not found")
    return quote_json(quote)
