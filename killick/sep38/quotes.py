"""Firm quotes: made by the anchor's ``post_quote`` hook, checked, kept for their owner.

A quote belongs to the SEP-10 principal that asked for it (the JWT ``sub``: account,
account and memo, or muxed account); anyone else gets 404, as if it did not exist. It
stays readable after ``expires_at`` (CHECKLIST S38-14, P-21). Making one is a call to
the hook and one insert.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from killick.columns import utcnow
from killick.context import Context
from killick.errors import APIError
from killick.integrations import call_hook, registry
from killick.models import Quote
from killick.money import format_amount
from killick.sep10 import SEP10Token
from killick.sep38 import answers
from killick.sep38.answers import HookMistake, Priced
from killick.sep38.market import MarketAsset
from killick.sep38.params import ParamError
from killick.transaction_json import iso8601

log = logging.getLogger("killick.sep38")

# What the wallet asked for: the hook fills in the rest, never changes these.
_REQUESTED = (
    "id",
    "principal",
    "context",
    "sell_asset",
    "buy_asset",
    "sell_delivery_method",
    "buy_delivery_method",
    "country_code",
    "requested_expire_after",
    "sell_decimals",
    "buy_decimals",
)


@dataclass(frozen=True)
class QuoteRequest:
    """A valid POST /quote body."""

    sell: MarketAsset
    buy: MarketAsset
    sell_amount: Decimal | None
    buy_amount: Decimal | None
    context: str
    sell_delivery_method: str | None = None
    buy_delivery_method: str | None = None
    country_code: str | None = None
    expire_after: datetime | None = None

    def new_quote(self, token: SEP10Token) -> Quote:
        return Quote(
            principal=token.principal,
            client_domain=token.client_domain,
            context=self.context,
            sell_asset=self.sell.id,
            buy_asset=self.buy.id,
            sell_amount=self.sell_amount,
            buy_amount=self.buy_amount,
            sell_decimals=self.sell.decimals,
            buy_decimals=self.buy.decimals,
            sell_delivery_method=self.sell_delivery_method,
            buy_delivery_method=self.buy_delivery_method,
            country_code=self.country_code,
            requested_expire_after=self.expire_after,
        )


def _check_filled(quote: Quote, requested: dict[str, Any], now: datetime) -> Priced:
    """The hook's quote, checked: the request untouched, the formulas, a future expiry."""
    for name, value in requested.items():
        if getattr(quote, name) != value:
            raise HookMistake(f"post_quote changed quote.{name}")
    priced = answers.read_price(
        {
            "sell_amount": quote.sell_amount,
            "buy_amount": quote.buy_amount,
            "price": quote.price,
            "total_price": quote.total_price,
            "fee": quote.fee,
        },
        answers.Side(quote.sell_asset, quote.sell_decimals),
        answers.Side(quote.buy_asset, quote.buy_decimals),
    )
    expires = quote.expires_at
    if not isinstance(expires, datetime) or expires.tzinfo is None:
        raise HookMistake(f"quote.expires_at must be an aware datetime, not {expires!r}")
    if expires <= now:
        raise HookMistake(f"quote.expires_at {expires.isoformat()} is not in the future")
    return priced


async def create_quote(
    context: Context, token: SEP10Token, request: Any, req: QuoteRequest
) -> Quote:
    """Ask ``post_quote`` to price a new quote, check it, and store it (committed)."""
    quote = req.new_quote(token)
    requested = {name: getattr(quote, name) for name in _REQUESTED}
    try:
        answer = await call_hook(registry.quote.post_quote, token, request, quote)
    except ValueError as error:
        raise APIError(400, str(error) or "the anchor cannot quote this request") from None
    except Exception as error:
        log.exception("quote.post_quote raised")
        raise answers.hook_failure("post_quote", repr(error)) from None
    if answer is not None and answer is not quote:
        raise answers.hook_failure("post_quote", "must return the quote it was given (or None)")
    now = utcnow()
    try:
        priced = _check_filled(quote, requested, now)
    except HookMistake as mistake:
        raise answers.hook_failure("post_quote", f"quote {quote.id}: {mistake}") from None
    if req.expire_after is not None and quote.expires_at < req.expire_after:
        raise ParamError(
            "expire_after",
            f"the anchor cannot keep this quote that long; it offers until "
            f"{iso8601(quote.expires_at)}",
        )
    quote.sell_amount = priced.sell_amount
    quote.buy_amount = priced.buy_amount
    quote.price = answers.price_text(priced.price)
    quote.total_price = answers.price_text(priced.total_price)
    quote.fee = priced.fee.as_json()
    async with context.sessions() as session:
        session.add(quote)
        await session.commit()
    return quote


async def find_quote(session: AsyncSession, principal: str, quote_id: str) -> Quote | None:
    """The principal's quote with this id, or None (another principal's is not found)."""
    quote = await session.get(Quote, quote_id)
    if quote is None or quote.principal != principal:
        return None
    return quote


def quote_json(quote: Quote) -> dict[str, Any]:
    """The POST /quote and GET /quote/:id body (with total_price in both, S38-14)."""
    body: dict[str, Any] = {
        "id": quote.id,
        "expires_at": iso8601(quote.expires_at),
        "total_price": quote.total_price,
        "price": quote.price,
        "sell_asset": quote.sell_asset,
        "sell_amount": format_amount(quote.sell_amount, quote.sell_decimals),
        "buy_asset": quote.buy_asset,
        "buy_amount": format_amount(quote.buy_amount, quote.buy_decimals),
        "fee": quote.fee,
    }
    if quote.sell_delivery_method is not None:
        body["sell_delivery_method"] = quote.sell_delivery_method
    if quote.buy_delivery_method is not None:
        body["buy_delivery_method"] = quote.buy_delivery_method
    return body
