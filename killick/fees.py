"""The fee of a deposit or withdrawal: the anchor's ``fee`` hook, checked and rounded.

One home for the rule, used by the SEP-6 API when a transaction starts and by the
workers when the amount actually received differs.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from killick.integrations import call_hook, registry
from killick.integrations.calls import HookAnswerError
from killick.models import Asset
from killick.money import MAX_AMOUNT, round_amount


async def fee_for(
    operation: str, asset: Asset, amount: Decimal, funding_method: str | None
) -> Decimal:
    """The fee the ``fee`` hook charges for ``amount``, rounded to the asset's decimals.

    Raises HookAnswerError for an answer that is not a non-negative number; a
    ValueError from the hook passes through (the caller answers 400).
    """
    params = {
        "operation": operation,
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
