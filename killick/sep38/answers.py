"""Reading the ``QuoteIntegration``'s answers: never trust, always check.

A price or quote that breaks the spec (a formula that does not hold, more decimals than
the asset has, a fee whose details do not add up, an expiry in the past) is the anchor's
bug: ``HookMistake`` says what was wrong, for the log, and the wallet gets a clean 500
(``hook_failure``). Nothing reaches the wallet or the database unchecked.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from killick.errors import APIError
from killick.money import MAX_AMOUNT, format_amount
from killick.sep38.formulas import fits, holds

log = logging.getLogger("killick.sep38")

HOOK_FAILED = "the anchor could not give a price now; try again later"
MAX_PRICE_TEXT = 64


class HookMistake(Exception):
    """A ``QuoteIntegration`` answer Killick cannot use (the anchor's bug)."""


def hook_failure(hook: str, problem: object) -> APIError:
    """Log the anchor's mistake; the wallet's answer is a 500 that says nothing of it."""
    log.error("quote.%s failed: %s", hook, problem)
    return APIError(500, HOOK_FAILED)


@dataclass(frozen=True)
class Side:
    """One asset of a pair as the checks need it."""

    id: str
    decimals: int


def number(name: str, value: object) -> Decimal:
    """A finite Decimal from a str, int or Decimal answer (never a float or a bool)."""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise HookMistake(f"{name} must be a decimal string or Decimal, not {value!r}")
    try:
        result = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise HookMistake(f"{name} is not a number: {value!r}") from None
    if not result.is_finite():
        raise HookMistake(f"{name} is not a finite number: {value!r}")
    return result


def amount(name: str, value: object, side: Side, *, allow_zero: bool = False) -> Decimal:
    """An amount of ``side``: positive (or zero), within its decimals and Stellar's range."""
    result = number(name, value)
    if result < 0 or (result == 0 and not allow_zero):
        raise HookMistake(f"{name} must be positive: {result}")
    if result > MAX_AMOUNT:
        raise HookMistake(f"{name} is larger than any Stellar amount: {result}")
    if not fits(result, side.decimals):
        raise HookMistake(f"{name} has more than the {side.decimals} decimals of {side.id}")
    return result


def price(name: str, value: object) -> Decimal:
    result = number(name, value)
    if result <= 0:
        raise HookMistake(f"{name} must be positive: {result}")
    if len(format(result, "f")) > MAX_PRICE_TEXT:
        raise HookMistake(f"{name} needs more than {MAX_PRICE_TEXT} characters: {result}")
    return result


def price_text(value: Decimal) -> str:
    return format(value, "f")  # never exponent form


@dataclass(frozen=True)
class Fee:
    total: Decimal
    side: Side
    details: tuple[tuple[str, str | None, Decimal], ...] | None

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "total": format_amount(self.total, self.side.decimals),
            "asset": self.side.id,
        }
        if self.details is not None:
            body["details"] = [
                {"name": name, "amount": format_amount(value, self.side.decimals)}
                | ({"description": description} if description else {})
                for name, description, value in self.details
            ]
        return body


def fee(value: object, sell: Side, buy: Side) -> Fee:
    """``{"total", "asset", "details"?}``: in the sell or the buy asset (the formulas know
    no other), details adding up to the total."""
    if not isinstance(value, Mapping):
        raise HookMistake(f"fee must be a dict with total and asset, not {value!r}")
    unknown = set(value) - {"total", "asset", "details"}
    if unknown:
        raise HookMistake(f"fee has unknown keys {sorted(unknown)}")
    asset = value.get("asset")
    if asset not in (sell.id, buy.id):
        raise HookMistake(f"fee.asset must be {sell.id} or {buy.id}, not {asset!r}")
    side = sell if asset == sell.id else buy
    total = amount("fee.total", value.get("total"), side, allow_zero=True)
    details = None
    if value.get("details") is not None:
        raw = value["details"]
        if not isinstance(raw, list | tuple):
            raise HookMistake("fee.details must be a list")
        items = []
        for index, item in enumerate(raw):
            label = f"fee.details[{index}]"
            if not isinstance(item, Mapping) or set(item) - {"name", "description", "amount"}:
                raise HookMistake(f"{label} must be {{'name', 'amount', 'description'?}}")
            name, description = item.get("name"), item.get("description")
            if not isinstance(name, str) or not name:
                raise HookMistake(f"{label}.name must be a non-empty str")
            if description is not None and not isinstance(description, str):
                raise HookMistake(f"{label}.description must be a str")
            part = amount(f"{label}.amount", item.get("amount"), side, allow_zero=True)
            items.append((name, description, part))
        added = sum((part for _, _, part in items), Decimal(0))
        if added != total:
            raise HookMistake(f"fee.details add up to {added}, not {total}")
        details = tuple(items)
    return Fee(total, side, details)


@dataclass(frozen=True)
class Priced:
    """A checked price for an amount: what /price answers and a quote keeps."""

    sell: Side
    buy: Side
    sell_amount: Decimal
    buy_amount: Decimal
    price: Decimal
    total_price: Decimal
    fee: Fee

    def as_json(self) -> dict[str, Any]:
        return {
            "total_price": price_text(self.total_price),
            "price": price_text(self.price),
            "sell_amount": format_amount(self.sell_amount, self.sell.decimals),
            "buy_amount": format_amount(self.buy_amount, self.buy.decimals),
            "fee": self.fee.as_json(),
        }


def check_formulas(priced: Priced) -> None:
    """The price formulas, to the decimals (HookMistake when one does not hold)."""
    sell, buy = priced.sell, priced.buy
    if not holds(
        priced.sell_amount, priced.total_price, priced.buy_amount, sell.decimals, buy.decimals
    ):
        raise HookMistake(
            f"sell_amount {priced.sell_amount} != total_price {priced.total_price} "
            f"x buy_amount {priced.buy_amount}"
        )
    if priced.fee.side is sell:
        net, gross = priced.sell_amount - priced.fee.total, priced.buy_amount
    else:
        net, gross = priced.sell_amount, priced.buy_amount + priced.fee.total
    if net <= 0 or not holds(net, priced.price, gross, sell.decimals, buy.decimals):
        where = "sell" if priced.fee.side is sell else "buy"
        raise HookMistake(
            f"price {priced.price} does not hold with a fee of {priced.fee.total} in the "
            f"{where} asset (sell {priced.sell_amount}, buy {priced.buy_amount})"
        )


def read_price(answer: object, sell: Side, buy: Side) -> Priced:
    """A ``get_price`` answer: ``{total_price, price, sell_amount, buy_amount, fee}``."""
    if not isinstance(answer, Mapping):
        raise HookMistake(f"the answer must be a dict, not {type(answer).__name__}")
    unknown = set(answer) - {"total_price", "price", "sell_amount", "buy_amount", "fee"}
    if unknown:
        raise HookMistake(f"unknown keys {sorted(unknown)}")
    priced = Priced(
        sell=sell,
        buy=buy,
        sell_amount=amount("sell_amount", answer.get("sell_amount"), sell),
        buy_amount=amount("buy_amount", answer.get("buy_amount"), buy),
        price=price("price", answer.get("price")),
        total_price=price("total_price", answer.get("total_price")),
        fee=fee(answer.get("fee"), sell, buy),
    )
    check_formulas(priced)
    return priced


def read_prices(answer: object, candidates: Mapping[str, Side]) -> list[dict[str, Any]]:
    """A ``get_prices`` answer: ``[{"asset", "price"}]`` for assets among ``candidates``
    (each at most once); Killick adds ``decimals``."""
    if not isinstance(answer, list | tuple):
        raise HookMistake(f"the answer must be a list, not {type(answer).__name__}")
    entries: dict[str, dict[str, Any]] = {}
    for index, item in enumerate(answer):
        if not isinstance(item, Mapping) or set(item) - {"asset", "price", "decimals"}:
            raise HookMistake(f"[{index}] must be {{'asset', 'price'}}")
        asset = item.get("asset")
        if asset not in candidates:
            raise HookMistake(f"[{index}].asset {asset!r} is not traded against the asset asked")
        if asset in entries:
            raise HookMistake(f"[{index}].asset {asset} is given twice")
        side = candidates[asset]
        if item.get("decimals", side.decimals) != side.decimals:
            raise HookMistake(f"[{index}].decimals: {asset} has {side.decimals}")
        value = price(f"[{index}].price", item.get("price"))
        entries[asset] = {"asset": asset, "price": price_text(value), "decimals": side.decimals}
    return list(entries.values())
