"""Money: Decimal amounts, Stellar's 7 decimal places, and their exact integer form.

Amounts are never floats. Stored amounts are integer stroops (10^-7), which both SQLite
and PostgreSQL keep exactly up to Stellar's maximum, 922337203685.4775807.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

STELLAR_DECIMALS = 7
STROOPS_PER_UNIT = 10**STELLAR_DECIMALS
MAX_STROOPS = 2**63 - 1
MAX_AMOUNT = Decimal(MAX_STROOPS) / STROOPS_PER_UNIT


class AmountError(ValueError):
    """An amount that is not a valid Stellar amount (the message says why)."""


def parse_amount(value: object, *, allow_zero: bool = False) -> Decimal:
    """Parse a decimal string or number into a Decimal a Stellar payment can carry."""
    if isinstance(value, float):
        value = repr(value)
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise AmountError(f"{value!r} is not a number") from None
    if not amount.is_finite():
        raise AmountError("amount must be a finite number")
    if amount < 0 or (amount == 0 and not allow_zero):
        raise AmountError("amount must be positive")
    if amount > MAX_AMOUNT:
        raise AmountError(f"amount must not exceed {MAX_AMOUNT}")
    if -amount.as_tuple().exponent > STELLAR_DECIMALS:  # type: ignore[operator]
        raise AmountError(f"amount has more than {STELLAR_DECIMALS} decimal places")
    return amount


def to_stroops(amount: Decimal) -> int:
    """Exact integer stroops; refuses rather than rounds an amount finer than 10^-7."""
    stroops = amount * STROOPS_PER_UNIT
    if stroops != stroops.to_integral_value():
        raise AmountError(f"{amount} has more than {STELLAR_DECIMALS} decimal places")
    result = int(stroops)
    if abs(result) > MAX_STROOPS:
        raise AmountError(f"{amount} exceeds the largest Stellar amount")
    return result


def from_stroops(stroops: int) -> Decimal:
    return (Decimal(stroops) / STROOPS_PER_UNIT).quantize(Decimal(1).scaleb(-STELLAR_DECIMALS))


def round_amount(amount: Decimal, decimals: int) -> Decimal:
    """Round half up to ``decimals`` places (an asset's significant_decimals)."""
    return amount.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def format_amount(amount: Decimal | None, decimals: int = STELLAR_DECIMALS) -> str | None:
    """The string form SEP transaction objects use, with exactly ``decimals`` places."""
    if amount is None:
        return None
    return format(round_amount(amount, decimals), "f")  # never exponent form ("1E-7")


def as_json_number(amount: Decimal | None) -> int | float | None:
    """A Decimal for the few places SEP-6 wants a JSON number (/info, /fee)."""
    if amount is None:
        return None
    if amount == amount.to_integral_value():
        return int(amount)
    return float(amount)
