"""SEP-6 fees: the ``fee`` hook's answer, and the static fees ``/info`` may publish."""

from __future__ import annotations

import logging
from decimal import Decimal, InvalidOperation
from typing import Any

from killick.integrations import call_hook, default_fee, registry
from killick.models import Asset
from killick.money import MAX_AMOUNT, as_json_number, round_amount
from killick.sep6.directions import Direction
from killick.sep6.hook_answers import HookAnswerError

log = logging.getLogger(__name__)


def fees_are_static() -> bool:
    """With the default fee hook the asset's fixed and percent fees say it all; with the
    anchor's own hook the schedule is its own, so /info leaves them out (SEP-6)."""
    return registry.fee is default_fee


def static_fee_fields(direction: Direction, asset: Asset) -> dict[str, Any]:
    """``fee_fixed``/``fee_percent`` as JSON numbers, when fees are static and set."""
    if not fees_are_static():
        return {}
    fixed, percent = direction.fee_settings(asset)
    fields = {"fee_fixed": as_json_number(fixed), "fee_percent": as_json_number(percent)}
    return {key: value for key, value in fields.items() if value is not None}


def limit_fields(direction: Direction, asset: Asset) -> dict[str, Any]:
    low, high = direction.limits(asset)
    fields = {"min_amount": as_json_number(low), "max_amount": as_json_number(high)}
    return {key: value for key, value in fields.items() if value is not None}


async def fee_for(
    direction: Direction, asset: Asset, amount: Decimal, funding_method: str | None
) -> Decimal:
    """The fee the ``fee`` hook charges for ``amount``, rounded to the asset's decimals.

    Raises HookAnswerError for an answer that is not a non-negative number; a
    ValueError from the hook passes through (the caller answers 400).
    """
    params = {
        "operation": direction.name,
        "type": funding_method,
        "funding_method": funding_method,
        "asset_code": asset.code,
        "amount": amount,
        "asset": asset,
    }
    answer = await call_hook(registry.fee, params)
    if isinstance(answer, bool) or not isinstance(answer, Decimal | int | float | str):
        raise HookAnswerError(f"fee hook answered {type(answer).__name__}, not a number")
    try:
        fee = Decimal(repr(answer)) if isinstance(answer, float) else Decimal(answer)
    except InvalidOperation:
        raise HookAnswerError(f"fee hook answered {answer!r}, not a number") from None
    if not fee.is_finite() or fee < 0 or fee > MAX_AMOUNT:
        raise HookAnswerError(f"fee hook answered {fee}; a fee is a non-negative amount")
    return round_amount(fee, asset.significant_decimals)
