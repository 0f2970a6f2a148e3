"""The SEP-38 price formulas, to the decimals of each asset (CHECKLIST S38-09, P-20).

    sell_amount       = total_price * buy_amount
    sell_amount - fee = price * buy_amount          (fee in the sell asset)
    sell_amount       = price * (buy_amount + fee)  (fee in the buy asset)

A price is a rounded number, so "=" holds to the decimals of the amounts: rounding the
product to the sell asset's decimals gives the sell side, or rounding the quotient to
the buy asset's decimals gives the buy side. Pure functions: anchors' quote hooks may
use them too (``fit_price`` gives the shortest price for which a formula holds).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext

MAX_PRICE_PLACES = 20


def places(value: Decimal) -> int:
    """Decimal places written in ``value`` (``Decimal("1.50")`` has 2)."""
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def fits(value: Decimal, decimals: int) -> bool:
    """Whether ``value`` needs no more than ``decimals`` places."""
    return value == value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def _round(value: Decimal, decimals: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def holds(
    sell_side: Decimal, price: Decimal, buy_side: Decimal, sell_decimals: int, buy_decimals: int
) -> bool:
    """``sell_side = price * buy_side`` to the decimals of the sell or the buy asset."""
    if price <= 0 or buy_side <= 0:
        return False
    with localcontext() as ctx:
        ctx.prec = 60
        if _round(price * buy_side, sell_decimals) == sell_side:
            return True
        return _round(sell_side / price, buy_decimals) == buy_side


def fit_price(
    sell_side: Decimal, buy_side: Decimal, sell_decimals: int, buy_decimals: int
) -> Decimal:
    """The price with the fewest decimal places (at least 2) for which
    ``holds(sell_side, price, buy_side, ...)``: what a hook can answer for a pair of
    amounts it has already rounded."""
    with localcontext() as ctx:
        ctx.prec = 60
        exact = sell_side / buy_side
    for count in range(2, MAX_PRICE_PLACES + 1):
        candidate = _round(exact, count)
        if holds(sell_side, candidate, buy_side, sell_decimals, buy_decimals):
            return candidate
    return _round(exact, MAX_PRICE_PLACES)
