"""What the anchor trades: the assets and pairs of one configuration version, in memory.

Built once per configuration version (like stellar.toml and SEP-6 /info) from the
Stellar assets with ``sep38_enabled``, the off-chain assets and the exchange pairs. A
pair is offered only when both its assets are; an asset is listed only when it is in a
pair offered. ``GET /info`` is answered from the ready bytes kept here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from killick.context import Context
from killick.integrations import QuoteIntegration, registry
from killick.models import Asset, ExchangePair, OffChainAsset
from killick.sep38.answers import Side
from killick.sep38.identifiers import stellar_id


@dataclass(frozen=True)
class MarketAsset:
    """One asset as SEP-38 describes it. ``stellar`` is the catalog's (shared) Asset."""

    id: str
    decimals: int
    stellar: Asset | None = None
    country_codes: tuple[str, ...] = ()
    sell_delivery_methods: tuple[dict[str, str], ...] = ()
    buy_delivery_methods: tuple[dict[str, str], ...] = ()

    @property
    def side(self) -> Side:
        return Side(self.id, self.decimals)

    def methods(self, direction: str) -> tuple[str, ...]:
        """Names of the ``sell`` or ``buy`` delivery methods."""
        listed = self.sell_delivery_methods if direction == "sell" else self.buy_delivery_methods
        return tuple(method["name"] for method in listed)

    def info_entry(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"asset": self.id}
        if self.stellar is None:
            if self.country_codes:
                entry["country_codes"] = list(self.country_codes)
            if self.sell_delivery_methods:
                entry["sell_delivery_methods"] = [dict(m) for m in self.sell_delivery_methods]
            if self.buy_delivery_methods:
                entry["buy_delivery_methods"] = [dict(m) for m in self.buy_delivery_methods]
        return entry


@dataclass(frozen=True)
class Market:
    assets: dict[str, MarketAsset] = field(default_factory=dict)
    pairs: frozenset[tuple[str, str]] = frozenset()
    info_body: bytes = b'{"assets": []}'

    def has_pair(self, sell: str, buy: str) -> bool:
        return (sell, buy) in self.pairs

    def buys_for(self, sell: str) -> list[MarketAsset]:
        """The assets ``sell`` can buy, in identifier order."""
        return [self.assets[b] for s, b in sorted(self.pairs) if s == sell]

    def sells_for(self, buy: str) -> list[MarketAsset]:
        """The assets that can buy ``buy``, in identifier order."""
        return [self.assets[s] for s, b in sorted(self.pairs) if b == buy]

    def stellar(self, asset: Asset) -> MarketAsset | None:
        return self.assets.get(stellar_id(asset.code, asset.issuer))


EMPTY = Market()


def quotes_offered() -> bool:
    """Whether the anchor registered a ``QuoteIntegration`` that makes firm quotes."""
    return type(registry.quote).post_quote is not QuoteIntegration.post_quote


def _offchain(row: OffChainAsset) -> MarketAsset:
    return MarketAsset(
        id=row.id,
        decimals=row.decimals,
        country_codes=tuple(row.country_codes or ()),
        sell_delivery_methods=tuple(dict(m) for m in row.sell_delivery_methods or ()),
        buy_delivery_methods=tuple(dict(m) for m in row.buy_delivery_methods or ()),
    )


def build_market(
    stellar_assets: tuple[Asset, ...], offchain: list[OffChainAsset], pairs: list[ExchangePair]
) -> Market:
    known: dict[str, MarketAsset] = {
        stellar_id(a.code, a.issuer): MarketAsset(
            stellar_id(a.code, a.issuer), a.significant_decimals, stellar=a
        )
        for a in stellar_assets
        if a.sep38_enabled
    }
    known.update({row.id: _offchain(row) for row in offchain})
    offered = frozenset(
        (p.sell_asset, p.buy_asset) for p in pairs if p.sell_asset in known and p.buy_asset in known
    )
    listed = sorted({asset for pair in offered for asset in pair})
    assets = {name: known[name] for name in listed}
    info = {"assets": [assets[name].info_entry() for name in listed]}
    return Market(assets=assets, pairs=offered, info_body=json.dumps(info).encode())


async def _load(context: Context, stellar_assets: tuple[Asset, ...]) -> Market:
    async with context.sessions() as session:
        offchain = (await session.scalars(select(OffChainAsset))).all()
        pairs = (await session.scalars(select(ExchangePair))).all()
    return build_market(stellar_assets, list(offchain), list(pairs))


async def current_market(context: Context) -> Market:
    """The market of the current configuration version (EMPTY without a quote hook)."""
    if not quotes_offered():
        return EMPTY
    snapshot = await context.catalog.current()
    return await snapshot.derived(("sep38-market",), lambda: _load(context, snapshot.assets))
