"""SEP-38 Anchor RFQ API (v2.5.0), mounted at stellar.toml's ANCHOR_QUOTE_SERVER.

``GET /info``, ``GET /prices``, ``GET /price``, ``POST /quote`` and ``GET /quote/{id}``.
The anchor's ``QuoteIntegration`` prices and quotes; Killick validates requests against
the off-chain assets and pairs configured (``killick.offchain_assets``), checks every
answer of the hook against the spec's price formulas and decimals, and keeps each firm
quote for the principal that asked for it. SEP-6 ``/deposit-exchange`` and
``/withdraw-exchange`` use these quotes. See docs/sep38.md.
"""

from killick.sep38.formulas import fit_price, holds
from killick.sep38.identifiers import AssetId, IdentifierError, parse_asset_id
from killick.sep38.market import Market, MarketAsset, current_market
from killick.sep38.routes import router

__all__ = [
    "AssetId",
    "IdentifierError",
    "Market",
    "MarketAsset",
    "current_market",
    "fit_price",
    "holds",
    "parse_asset_id",
    "router",
]
