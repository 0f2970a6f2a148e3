"""The fixed conversion rates path payments cross instead of an order book.

A rate says how much of `buy` one unit of `sell` gets. A pair given one way also works the
other way at the inverse price unless that direction is given too, so one entry per market
is enough for tests. Rates have unlimited depth: there is no order book, no spread and no
offers to run out of (a missing rate is `op_too_few_offers`).
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation, localcontext
from typing import Any

from stellar_sdk import Asset

NATIVE = "native"


def canonical_asset(value: Asset | str) -> str:
    """ "native" / "XLM" / "CODE:ISSUER" / an sdk Asset → "native" or "CODE:ISSUER"."""
    if isinstance(value, Asset):
        return NATIVE if value.is_native() else f"{value.code}:{value.issuer}"
    text = value.strip()
    if text.lower() in (NATIVE, "xlm"):
        return NATIVE
    code, sep, issuer = text.partition(":")
    if not sep:
        raise ValueError(f"asset {value!r} must be 'native' or CODE:ISSUER")
    Asset(code, issuer)  # validates code and issuer
    return f"{code}:{issuer}"


def parse_rate_spec(spec: str) -> tuple[str, str, Decimal]:
    """CLI form "SELL/BUY=PRICE", e.g. "native/USDC:GA…=0.12" (1 XLM buys 0.12 USDC)."""
    pair, sep, price = spec.rpartition("=")
    sell, slash, buy = pair.partition("/")
    if not sep or not slash:
        raise ValueError(f"rate {spec!r} must look like SELL/BUY=PRICE")
    return canonical_asset(sell), canonical_asset(buy), _price(price)


def _price(value: str | Decimal | int | float) -> Decimal:
    try:
        price = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"price {value!r} is not a number") from None
    if not price.is_finite() or price <= 0:
        raise ValueError(f"price {value!r} must be positive")
    return price


class RateTable:
    def __init__(self) -> None:
        self._rates: dict[tuple[str, str], Decimal] = {}

    def set(self, sell: Asset | str, buy: Asset | str, price: str | Decimal | int | float) -> None:
        """One unit of `sell` buys `price` units of `buy`."""
        sell_key, buy_key = canonical_asset(sell), canonical_asset(buy)
        if sell_key == buy_key:
            raise ValueError("a rate needs two different assets")
        self._rates[(sell_key, buy_key)] = _price(price)

    def clear(self) -> None:
        self._rates.clear()

    def price(self, sell: str, buy: str) -> Decimal | None:
        if sell == buy:
            return Decimal(1)
        direct = self._rates.get((sell, buy))
        if direct is not None:
            return direct
        reverse = self._rates.get((buy, sell))
        return None if reverse is None else 1 / reverse

    def describe(self) -> list[dict[str, Any]]:
        return [
            {"sell": sell, "buy": buy, "price": str(price)}
            for (sell, buy), price in sorted(self._rates.items())
        ]

    def load(self, entries: list[dict[str, Any]]) -> None:
        for entry in entries:
            self.set(entry["sell"], entry["buy"], entry["price"])


def convert_out(amount_in: int, price: Decimal) -> int:
    """Strict send: what `amount_in` stroops buy, rounded down (the network never rounds up)."""
    with localcontext() as exact:
        exact.prec = 60
        return int((Decimal(amount_in) * price).to_integral_value(ROUND_FLOOR))


def convert_in(amount_out: int, price: Decimal) -> int:
    """Strict receive: stroops needed to buy `amount_out`, rounded up."""
    with localcontext() as exact:
        exact.prec = 60
        return int((Decimal(amount_out) / price).to_integral_value(ROUND_CEILING))
