"""OpenAPI descriptions of the ``/deposit``, ``/withdraw`` (and exchange) parameters.

Killick reads those parameters itself (the same way from a query string, a JSON body or
a form), so FastAPI cannot derive their schema; this module states it, from the same
parameter lists ``params.py`` validates.
"""

from __future__ import annotations

from typing import Any

from killick.sep6.params import KNOWN

_STRING: dict[str, Any] = {"type": "string"}
_MEMO_TYPE: dict[str, Any] = {"type": "string", "enum": ["text", "id", "hash"]}

PARAMETERS: dict[str, tuple[str, dict[str, Any]]] = {
    "asset_code": ("Code of the on-chain asset (one listed in /info).", _STRING),
    "account": (
        "G... (or M... with SEP-23) account: the deposit's destination or the withdrawal's "
        "source. Defaults to the authenticated account. C... accounts are not supported.",
        _STRING,
    ),
    "funding_method": ("How funds move off-chain: one of the asset's funding_methods.", _STRING),
    "type": ("Deprecated older name of funding_method.", _STRING),
    "memo_type": ("Type of memo: text, id or hash.", _MEMO_TYPE),
    "memo": ("Memo for the Stellar payment (hash memos in base64).", _STRING),
    "email_address": ("Email address of the depositor.", _STRING),
    "lang": ("RFC 4646 language tag; unsupported values fall back to en.", _STRING),
    "on_change_callback": ("https URL to POST the transaction to on each change.", _STRING),
    "amount": (
        "Amount of the asset, a decimal string within the asset's limits and decimals.",
        {"type": "string", "pattern": r"^(\d+(\.\d*)?|\.\d+)$"},
    ),
    "country_code": ("ISO 3166-1 alpha-3 code of the user's address.", _STRING),
    "claimable_balance_supported": (
        "true if the wallet can receive the deposit as a claimable balance.",
        {"type": "string", "enum": ["true", "false"]},
    ),
    "customer_id": ("SEP-12 id of the customer, if the wallet knows it.", _STRING),
    "location_id": ("Id of the cash drop-off or pick-up location.", _STRING),
    "wallet_name": ("Deprecated: name of the wallet.", _STRING),
    "wallet_url": ("Deprecated: URL of the wallet.", _STRING),
    "refund_memo": ("Memo for refund payments; with refund_memo_type.", _STRING),
    "refund_memo_type": ("Type of refund_memo: text, id or hash.", _MEMO_TYPE),
    "dest": ("Deprecated: the off-chain destination account.", _STRING),
    "dest_extra": ("Deprecated: extra information about dest.", _STRING),
    "source_asset": (
        "Exchanges: deposit: the off-chain asset sold (SEP-38 form, e.g. iso4217:BRL); "
        "withdraw: the code of the Stellar asset sold.",
        _STRING,
    ),
    "destination_asset": (
        "Exchanges: deposit: the code of the Stellar asset bought; withdraw: the "
        "off-chain asset bought (SEP-38 form).",
        _STRING,
    ),
    "quote_id": ("Exchanges: the id of a SEP-38 firm quote (else the market rate).", _STRING),
}
REQUIRED = {
    "deposit": {"asset_code"},
    "withdraw": {"asset_code"},
    "deposit-exchange": {"source_asset", "destination_asset", "amount"},
    "withdraw-exchange": {"source_asset", "destination_asset", "amount"},
}


def query_parameters(endpoint: str) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "in": "query",
            "required": name in REQUIRED[endpoint],
            "description": PARAMETERS[name][0],
            "schema": PARAMETERS[name][1],
        }
        for name in KNOWN[endpoint]
    ]


def body_schema(endpoint: str) -> dict[str, Any]:
    schema = {
        "type": "object",
        "required": sorted(REQUIRED[endpoint]),
        "properties": {
            name: {**PARAMETERS[name][1], "description": PARAMETERS[name][0]}
            for name in KNOWN[endpoint]
        },
        "additionalProperties": {"type": "string"},
    }
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": schema},
                "application/x-www-form-urlencoded": {"schema": schema},
            },
        }
    }


PATCH_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["transaction"],
                    "properties": {
                        "transaction": {
                            "type": "object",
                            "description": "The fields named in required_info_updates.",
                            "additionalProperties": {"type": "string"},
                        }
                    },
                }
            }
        },
    }
}
