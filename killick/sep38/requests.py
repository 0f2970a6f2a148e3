"""SEP-38 requests, from a query string or a JSON body, validated into request objects."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal

from fastapi import Request

from killick.sep38 import params
from killick.sep38.market import Market, MarketAsset
from killick.sep38.params import ParamError
from killick.sep38.prices import PriceRequest, PricesRequest
from killick.sep38.quotes import QuoteRequest

_MAX_EXPONENT = 64  # 1e-999999999 written out would take a gigabyte


def _get(raw: Mapping[str, str], name: str) -> str | None:
    value = raw.get(name)
    return None if value is None or value == "" else value


async def json_body(request: Request) -> dict[str, str]:
    """A JSON object of strings (numbers are read exactly and kept as their text)."""
    try:
        data = json.loads(await request.body() or b"null", parse_float=Decimal)
    except (ValueError, UnicodeDecodeError):
        raise ParamError("request body", "is not valid JSON") from None
    if not isinstance(data, dict):
        raise ParamError("request body", "must be a JSON object")
    values: dict[str, str] = {}
    for name, value in data.items():
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            raise ParamError(name, "must be a string")
        if isinstance(value, Decimal):
            exponent = value.as_tuple().exponent
            if not isinstance(exponent, int) or abs(exponent) > _MAX_EXPONENT:
                raise ParamError(name, "must be a decimal number, e.g. 100.50")
            value = format(value, "f")  # exact (never read as a float)
        values[name] = str(value)
    return values


def prices_request(market: Market, raw: Mapping[str, str]) -> PricesRequest:
    sell_name, buy_name = _get(raw, "sell_asset"), _get(raw, "buy_asset")
    if (sell_name is None) == (buy_name is None):
        raise ParamError("sell_asset", "give either sell_asset or buy_asset, not both")
    selling = sell_name is not None
    if selling and _get(raw, "buy_amount") is not None:
        raise ParamError("buy_amount", "goes with buy_asset; use sell_amount with sell_asset")
    if not selling and _get(raw, "sell_amount") is not None:
        raise ParamError("sell_amount", "goes with sell_asset; use buy_amount with buy_asset")
    name = "sell_asset" if selling else "buy_asset"
    asset = params.asset(market, name, sell_name or buy_name or "")
    counter = tuple(market.buys_for(asset.id) if selling else market.sells_for(asset.id))
    amount_name = "sell_amount" if selling else "buy_amount"
    amount_text = _get(raw, amount_name)
    amount = params.amount(amount_name, amount_text, asset) if amount_text else None
    sell_side = [asset] if selling else list(counter)
    buy_side = list(counter) if selling else [asset]
    return PricesRequest(
        asset=asset,
        selling=selling,
        counter=counter,
        amount=amount,
        sell_delivery_method=params.delivery_method(
            "sell_delivery_method", _get(raw, "sell_delivery_method"), sell_side, "sell"
        ),
        buy_delivery_method=params.delivery_method(
            "buy_delivery_method", _get(raw, "buy_delivery_method"), buy_side, "buy"
        ),
        country_code=params.country_code(
            _get(raw, "country_code"), [asset] if asset.stellar is None else []
        ),
    )


_Pair = tuple[MarketAsset, MarketAsset, Decimal | None, Decimal | None, str | None]


def _pair(market: Market, raw: Mapping[str, str]) -> _Pair:
    """The assets, amount and country that /price and /quote share."""
    sell_name, buy_name = _get(raw, "sell_asset"), _get(raw, "buy_asset")
    if sell_name is None:
        raise ParamError("sell_asset", "is required")
    if buy_name is None:
        raise ParamError("buy_asset", "is required")
    sell = params.asset(market, "sell_asset", sell_name)
    buy = params.asset(market, "buy_asset", buy_name)
    params.pair(market, sell, buy)
    sell_amount, buy_amount = params.one_amount(
        _get(raw, "sell_amount"), _get(raw, "buy_amount"), sell, buy
    )
    offchain = [a for a in (sell, buy) if a.stellar is None]
    country = params.country_code(_get(raw, "country_code"), offchain)
    return sell, buy, sell_amount, buy_amount, country


def price_request(market: Market, raw: Mapping[str, str]) -> PriceRequest:
    sell, buy, sell_amount, buy_amount, country = _pair(market, raw)
    return PriceRequest(
        sell=sell,
        buy=buy,
        sell_amount=sell_amount,
        buy_amount=buy_amount,
        context=params.context(_get(raw, "context"), params.CONTEXTS_PRICE),
        sell_delivery_method=params.delivery_method(
            "sell_delivery_method", _get(raw, "sell_delivery_method"), [sell], "sell"
        ),
        buy_delivery_method=params.delivery_method(
            "buy_delivery_method", _get(raw, "buy_delivery_method"), [buy], "buy"
        ),
        country_code=country,
    )


def quote_request(market: Market, raw: Mapping[str, str]) -> QuoteRequest:
    sell, buy, sell_amount, buy_amount, country = _pair(market, raw)
    expire_after = _get(raw, "expire_after")
    return QuoteRequest(
        sell=sell,
        buy=buy,
        sell_amount=sell_amount,
        buy_amount=buy_amount,
        context=params.context(_get(raw, "context"), params.CONTEXTS_QUOTE),
        sell_delivery_method=params.required_method(
            "sell_delivery_method", _get(raw, "sell_delivery_method"), sell, "sell"
        ),
        buy_delivery_method=params.required_method(
            "buy_delivery_method", _get(raw, "buy_delivery_method"), buy, "buy"
        ),
        country_code=country,
        expire_after=params.timestamp("expire_after", expire_after) if expire_after else None,
    )
