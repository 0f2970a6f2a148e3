"""Checks for SEP-38 request values; each failure is a 400 naming the parameter.

Assets must be listed by ``GET /info`` (and pairs by ``GET /prices``); amounts have at
most the asset's decimals; delivery methods are only for off-chain assets and must be
ones they list; country codes are ISO 3166-1 alpha-2 or ISO 3166-2 and, when the asset
lists its countries, one of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from killick.errors import APIError
from killick.money import MAX_AMOUNT
from killick.sep38.formulas import fits
from killick.sep38.identifiers import COUNTRY_CODE, IdentifierError, parse_asset_id
from killick.sep38.market import Market, MarketAsset

CONTEXTS_PRICE = ("sep6", "sep31")
CONTEXTS_QUOTE = ("sep6", "sep24", "sep31")
MAX_TEXT = 255
_AMOUNT = re.compile(r"(\d+(\.\d*)?|\.\d+)", re.ASCII)


class ParamError(APIError):
    """A request value that is missing or wrong: 400 ``{"error": "<name>: <why>"}``."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(400, f"{name}: {problem}")
        self.name = name


def text(name: str, value: str, max_length: int = MAX_TEXT) -> str:
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ParamError(name, "must not contain control characters")
    if len(value) > max_length:
        raise ParamError(name, f"must be at most {max_length} characters")
    return value


def asset(market: Market, name: str, value: str) -> MarketAsset:
    """An asset this anchor trades (listed by GET /info)."""
    text(name, value)
    try:
        parse_asset_id(value)
    except IdentifierError as error:
        raise ParamError(name, str(error)) from None
    found = market.assets.get(value)
    if found is None:
        raise ParamError(name, f"{value} is not traded by this anchor; see GET /info")
    return found


def pair(market: Market, sell: MarketAsset, buy: MarketAsset) -> None:
    if not market.has_pair(sell.id, buy.id):
        raise ParamError(
            "buy_asset", f"{sell.id} cannot be exchanged for {buy.id}; see GET /prices"
        )


def amount(name: str, value: str, of: MarketAsset) -> Decimal:
    """A positive decimal string with at most the asset's decimals."""
    value = value.strip()
    if not _AMOUNT.fullmatch(value):
        raise ParamError(name, "must be a positive decimal number, e.g. 100.50")
    try:
        result = Decimal(value)
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        raise ParamError(name, "must be a positive decimal number") from None
    if result <= 0:
        raise ParamError(name, "must be positive")
    if result > MAX_AMOUNT:
        raise ParamError(name, f"must not exceed {MAX_AMOUNT}")
    if not fits(result, of.decimals):
        raise ParamError(name, f"{of.id} amounts have at most {of.decimals} decimal places")
    return result


def one_amount(
    sell_amount: str | None, buy_amount: str | None, sell: MarketAsset, buy: MarketAsset
) -> tuple[Decimal | None, Decimal | None]:
    """Exactly one of ``sell_amount`` and ``buy_amount`` (SEP-38 /price and /quote)."""
    if (sell_amount is None) == (buy_amount is None):
        raise ParamError("sell_amount", "give either sell_amount or buy_amount, not both")
    if sell_amount is not None:
        return amount("sell_amount", sell_amount, sell), None
    assert buy_amount is not None
    return None, amount("buy_amount", buy_amount, buy)


def delivery_method(
    name: str, value: str | None, assets: Iterable[MarketAsset], direction: str
) -> str | None:
    """A method one of ``assets`` (off-chain) lists for ``direction`` (sell or buy)."""
    if value is None:
        return None
    text(name, value, 64)
    offered: list[str] = []
    for candidate in assets:
        offered.extend(m for m in candidate.methods(direction) if m not in offered)
    if not offered:
        raise ParamError(name, "no off-chain asset here has delivery methods; leave it out")
    if value not in offered:
        raise ParamError(name, f"{value!r} is not offered; one of {', '.join(offered)}")
    return value


def required_method(name: str, value: str | None, of: MarketAsset, direction: str) -> str | None:
    """POST /quote: the method is required when the off-chain asset lists more than one."""
    if of.stellar is not None:
        if value is not None:
            raise ParamError(name, f"{of.id} is a Stellar asset: it has no delivery methods")
        return None
    offered = of.methods(direction)
    if value is None and len(offered) > 1:
        raise ParamError(name, f"is required for {of.id}; one of {', '.join(offered)}")
    return delivery_method(name, value, [of], direction)


def country_code(value: str | None, assets: Iterable[MarketAsset]) -> str | None:
    """ISO 3166-1 alpha-2 or ISO 3166-2; one of the off-chain assets' countries if listed."""
    if value is None:
        return None
    text("country_code", value, 16)
    code = value.upper()
    if not COUNTRY_CODE.fullmatch(code):
        raise ParamError("country_code", "must be ISO 3166-1 alpha-2 or ISO 3166-2, e.g. BR")
    for candidate in assets:
        listed = candidate.country_codes
        if listed and code not in listed and code.split("-")[0] not in listed:
            raise ParamError(
                "country_code", f"{candidate.id} is offered in {', '.join(listed)} only"
            )
    return code


def context(value: str | None, allowed: tuple[str, ...]) -> str:
    if value is None:
        raise ParamError("context", f"is required; one of {', '.join(allowed)}")
    if value not in allowed:
        raise ParamError("context", f"must be one of {', '.join(allowed)}")
    return value


def timestamp(name: str, value: str) -> datetime:
    """A UTC ISO 8601 time; one without a zone is taken as UTC."""
    text(name, value, 64)
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ParamError(name, "must be an ISO 8601 time, e.g. 2030-01-31T12:00:00Z") from None
