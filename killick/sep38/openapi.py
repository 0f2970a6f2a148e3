"""OpenAPI descriptions of the SEP-38 parameters, which Killick reads itself."""

from __future__ import annotations

from typing import Any

_STRING: dict[str, Any] = {"type": "string"}
_AMOUNT: dict[str, Any] = {"type": "string", "pattern": r"^(\d+(\.\d*)?|\.\d+)$"}
_ASSET = "SEP-38 asset: stellar:CODE:ISSUER or iso4217:XXX (see GET /info)"

FIELDS: dict[str, tuple[str, dict[str, Any]]] = {
    "sell_asset": (_ASSET + ", the asset to sell", _STRING),
    "buy_asset": (_ASSET + ", the asset to buy", _STRING),
    "sell_amount": ("Amount of sell_asset, at most its decimals", _AMOUNT),
    "buy_amount": ("Amount of buy_asset, at most its decimals", _AMOUNT),
    "sell_delivery_method": ("How the user delivers an off-chain sell_asset", _STRING),
    "buy_delivery_method": ("How the user receives an off-chain buy_asset", _STRING),
    "country_code": ("ISO 3166-1 alpha-2 or ISO 3166-2 code of the user's address", _STRING),
    "context": ("What the price is for: sep6 or sep31 (/price); also sep24 (/quote)", _STRING),
    "expire_after": ("UTC ISO 8601 time the quote should last until, at least", _STRING),
}
PRICES = ("sell_asset", "buy_asset", "sell_amount", "buy_amount", "sell_delivery_method")
PRICES += ("buy_delivery_method", "country_code")
PRICE = (*PRICES, "context")
QUOTE = (*PRICE, "expire_after")


def _parameters(names: tuple[str, ...], required: set[str]) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "in": "query",
            "required": name in required,
            "description": FIELDS[name][0],
            "schema": FIELDS[name][1],
        }
        for name in names
    ]


PRICES_PARAMETERS = _parameters(PRICES, set())
PRICE_PARAMETERS = _parameters(PRICE, {"sell_asset", "buy_asset", "context"})
QUOTE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["sell_asset", "buy_asset", "context"],
                    "properties": {
                        name: {**FIELDS[name][1], "description": FIELDS[name][0]} for name in QUOTE
                    },
                }
            }
        },
    }
}
