"""Default hooks for stellar.toml, /info and fees, used until an anchor registers its own."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from killick.integrations.calls import inline
from killick.money import round_amount


@inline
def default_toml(*args: Any, **kwargs: Any) -> dict[str, Any]:
    """Extra stellar.toml content (e.g. ``{"DOCUMENTATION": {"ORG_NAME": ...}}``).
    Killick generates the rest; the hook's keys win. Called once per asset change."""
    return {}


@inline
def default_info(
    request: Any, asset: Any, lang: str | None, *args: Any, **kwargs: Any
) -> dict[str, Any]:
    """Per-asset additions to SEP-6 ``/info``: ``{"fields": {...}, "types": {...},
    "funding_methods": [...]}``. Killick caches the answer per asset and language, so it
    may depend on them only, not on the request."""
    return {}


@inline
def default_fee(fee_params: dict[str, Any], *args: Any, **kwargs: Any) -> Decimal:
    """The fee for ``fee_params``: ``operation`` ("deposit" or "withdraw"), ``type``,
    ``asset_code``, ``amount`` (Decimal) and ``asset`` (the Asset). The default is the
    asset's fixed fee plus its percent fee, rounded to its significant decimals."""
    asset = fee_params["asset"]
    amount: Decimal = fee_params["amount"]
    prefix = "deposit" if fee_params["operation"] == "deposit" else "withdrawal"
    fixed = getattr(asset, f"{prefix}_fee_fixed") or Decimal(0)
    percent = getattr(asset, f"{prefix}_fee_percent") or Decimal(0)
    return round_amount(fixed + amount * percent / 100, asset.significant_decimals)
