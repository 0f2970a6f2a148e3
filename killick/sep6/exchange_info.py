"""The ``deposit-exchange`` and ``withdraw-exchange`` blocks of SEP-6 ``/info``.

Present when SEP-38 is active and the anchor trades: a Stellar asset is listed under
``deposit-exchange`` when an off-chain asset can be sold for it (a pair), and under
``withdraw-exchange`` when it can be sold for an off-chain asset. ``funding_methods``
are the SEP-38 delivery methods of those off-chain assets (CHECKLIST S6-12): sell methods
for deposits, buy methods for withdrawals; the ``sep6_info`` hook's methods when none
are listed. Entries carry no fees or limits (the quote has them; CHECKLIST P-23).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from killick.context import Context
from killick.models import Asset
from killick.sep6.directions import DEPOSIT_EXCHANGE, WITHDRAW_EXCHANGE, Direction
from killick.sep38.market import Market, MarketAsset, current_market

TYPE_FIELD_DESCRIPTION = "how the funds are moved (the older name of funding_method)"


def counterparts(market: Market, asset: Asset, direction: Direction) -> list[MarketAsset]:
    """The off-chain assets ``asset`` is exchanged with in ``direction``."""
    here = market.stellar(asset)
    if here is None:
        return []
    found = market.sells_for(here.id) if direction.is_deposit else market.buys_for(here.id)
    return [other for other in found if other.stellar is None]


def _methods(others: list[MarketAsset], direction: Direction, fallback: list[str]) -> list[str]:
    side = "sell" if direction.is_deposit else "buy"
    methods: list[str] = []
    for other in others:
        methods.extend(m for m in other.methods(side) if m not in methods)
    return methods or list(fallback)


def _entry(
    direction: Direction,
    asset: Asset,
    methods: list[str],
    published_fields: dict[str, Any],
    published_types: dict[str, Any],
) -> dict[str, Any]:
    if not direction.enabled(asset):
        return {"enabled": False}
    entry: dict[str, Any] = {"enabled": True, "authentication_required": True}
    if methods:
        entry["funding_methods"] = methods
    if direction.is_deposit:
        fields = dict(published_fields)
        if methods:
            fields.setdefault("type", {"description": TYPE_FIELD_DESCRIPTION, "choices": methods})
        if fields:
            entry["fields"] = fields
    else:
        types = {m: published_types.get(m, {"fields": {}}) for m in methods}
        if types:
            entry["types"] = types
    return entry


async def exchange_blocks(
    context: Context, assets: tuple[Asset, ...], published: Mapping[str, Any]
) -> dict[str, dict[str, Any]]:
    """``{"deposit-exchange": {...}, "withdraw-exchange": {...}}`` for /info, keyed by
    code like the plain blocks. ``published`` is the ``sep6_info`` answer per code."""
    market = await current_market(context)
    blocks: dict[str, dict[str, Any]] = {"deposit-exchange": {}, "withdraw-exchange": {}}
    seen: set[str] = set()
    for asset in assets:
        if not asset.sep6_enabled or asset.code in seen or asset.code not in published:
            continue  # as in the plain blocks, the first SEP-6 asset of a code is the one
        seen.add(asset.code)
        hook = published[asset.code]
        for direction in (DEPOSIT_EXCHANGE, WITHDRAW_EXCHANGE):
            others = counterparts(market, asset, direction)
            if not others:
                continue
            fallback = hook.deposit_methods if direction.is_deposit else hook.withdraw_methods
            methods = _methods(others, direction, fallback)
            blocks[direction.name][asset.code] = _entry(
                direction, asset, methods, hook.fields, hook.types
            )
    return blocks
