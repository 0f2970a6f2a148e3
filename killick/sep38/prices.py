"""Indicative prices: the anchor's ``get_prices``/``get_price`` hooks, asked and checked."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from killick.errors import APIError
from killick.integrations import call_hook, registry
from killick.sep38 import answers
from killick.sep38.answers import HookMistake, Priced
from killick.sep38.market import MarketAsset

log = logging.getLogger("killick.sep38")


async def _ask(hook: str, *args: Any) -> Any:
    try:
        return await call_hook(getattr(registry.quote, hook), *args)
    except ValueError as error:
        raise APIError(400, str(error) or "the anchor cannot price this request") from None
    except Exception as error:
        log.exception("quote.%s raised", hook)
        raise answers.hook_failure(hook, repr(error)) from None


@dataclass(frozen=True)
class PricesRequest:
    """A valid GET /prices: ``asset`` is the sell_asset, or the buy_asset when ``selling``
    is False; ``counter`` the assets it trades against."""

    asset: MarketAsset
    selling: bool
    counter: tuple[MarketAsset, ...]
    amount: Decimal | None
    sell_delivery_method: str | None
    buy_delivery_method: str | None
    country_code: str | None

    def hook_params(self) -> dict[str, Any]:
        side = "sell" if self.selling else "buy"
        other = "buy" if self.selling else "sell"
        return {
            f"{side}_asset": self.asset.id,
            f"{other}_asset": None,
            f"{side}_amount": self.amount,
            f"{other}_amount": None,
            "sell_delivery_method": self.sell_delivery_method,
            "buy_delivery_method": self.buy_delivery_method,
            "country_code": self.country_code,
            "assets": [asset.id for asset in self.counter],
            "decimals": {a.id: a.decimals for a in (self.asset, *self.counter)},
        }


async def indicative_prices(token: Any, request: Any, req: PricesRequest) -> dict[str, Any]:
    """The GET /prices body: ``buy_assets`` (or ``sell_assets``) the hook priced."""
    key = "buy_assets" if req.selling else "sell_assets"
    if not req.counter:
        return {key: []}
    answer = await _ask("get_prices", token, request, req.hook_params())
    try:
        entries = answers.read_prices(answer, {a.id: a.side for a in req.counter})
    except HookMistake as mistake:
        raise answers.hook_failure("get_prices", mistake) from None
    return {key: entries}


@dataclass(frozen=True)
class PriceRequest:
    """A valid GET /price (also what SEP-6 exchanges without a quote ask for)."""

    sell: MarketAsset
    buy: MarketAsset
    sell_amount: Decimal | None
    buy_amount: Decimal | None
    context: str
    sell_delivery_method: str | None = None
    buy_delivery_method: str | None = None
    country_code: str | None = None

    def hook_params(self) -> dict[str, Any]:
        return {
            "sell_asset": self.sell.id,
            "buy_asset": self.buy.id,
            "sell_amount": self.sell_amount,
            "buy_amount": self.buy_amount,
            "sell_delivery_method": self.sell_delivery_method,
            "buy_delivery_method": self.buy_delivery_method,
            "country_code": self.country_code,
            "context": self.context,
            "sell_decimals": self.sell.decimals,
            "buy_decimals": self.buy.decimals,
        }


async def indicative_price(token: Any, request: Any, req: PriceRequest) -> Priced:
    """The hook's price for one pair and amount, checked against the formulas."""
    answer = await _ask("get_price", token, request, req.hook_params())
    try:
        return answers.read_price(answer, req.sell.side, req.buy.side)
    except HookMistake as mistake:
        raise answers.hook_failure("get_price", mistake) from None
