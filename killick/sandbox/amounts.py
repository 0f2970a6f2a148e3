"""Stroop arithmetic: the ledger keeps integer stroops, Horizon shows 7-decimal strings."""

from __future__ import annotations

import functools
from decimal import Decimal

STROOPS_PER_UNIT = 10_000_000
INT64_MAX = 2**63 - 1


def to_stroops(amount: str | Decimal | int) -> int:
    """Convert a lumen-denominated amount to stroops, refusing sub-stroop precision."""
    value = Decimal(amount) * STROOPS_PER_UNIT
    if value != value.to_integral_value():
        raise ValueError(f"amount {amount} has more than 7 decimal places")
    return int(value)


def format_stroops(stroops: int) -> str:
    """Render stroops the way Horizon does ("12.3400000")."""
    sign = "-" if stroops < 0 else ""
    whole, frac = divmod(abs(stroops), STROOPS_PER_UNIT)
    return f"{sign}{whole}.{frac:07d}"


@functools.lru_cache(maxsize=8192)
def stroops(amount: str) -> int:
    """Stroops of a decoded operation's amount string (cached: batches repeat amounts)."""
    return to_stroops(amount)
