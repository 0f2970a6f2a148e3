"""SEP-6 fees: the ``fee`` hook's answer, and the static fees ``/info`` may publish."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from killick.fees import fee_for as hook_fee
from killick.integrations import default_fee, registry
from killick.models import Asset
from killick.money import as_json_number
from killick.sep6.directions import Direction

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
    """The ``fee`` hook's fee for this direction (see ``killick.fees.fee_for``)."""
    return await hook_fee(direction.name, asset, amount, funding_method)
