"""Building the stellar.toml document."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import tomli_w
from stellar_sdk import Network

from killick.endpoints import service_urls
from killick.models import Asset
from killick.settings import Settings

SEP1_VERSION = "2.7.0"
MAX_TOML_BYTES = 100 * 1024


def _currency(asset: Asset, settings: Settings) -> dict[str, Any]:
    testnet = settings.STELLAR_NETWORK_PASSPHRASE != Network.PUBLIC_NETWORK_PASSPHRASE
    entry: dict[str, Any] = {
        "code": asset.code,
        "issuer": asset.issuer,
        "status": "test" if testnet else "live",
        "display_decimals": asset.significant_decimals,
        "is_asset_anchored": True,
    }
    if asset.name:
        entry["name"] = asset.name
    return entry


def _merge_currencies(
    ours: list[dict[str, Any]], theirs: Iterable[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The hook's entry for the same code and issuer overrides ours field by field."""
    merged = [dict(entry) for entry in ours]
    for extra in theirs:
        match = next(
            (
                entry
                for entry in merged
                if entry.get("code") == extra.get("code")
                and entry.get("issuer") == extra.get("issuer")
            ),
            None,
        )
        if match is None:
            merged.append(dict(extra))
        else:
            match.update(extra)
    return merged


def build_toml(settings: Settings, assets: Iterable[Asset], hook: dict[str, Any]) -> str:
    """The stellar.toml text; the hook's keys win, CURRENCIES merge per asset."""
    assets = list(assets)
    accounts = [settings.signing_keypair.public_key]
    accounts += [a.distribution_account for a in assets if a.distribution_account]
    document: dict[str, Any] = {
        "VERSION": SEP1_VERSION,
        "NETWORK_PASSPHRASE": settings.STELLAR_NETWORK_PASSPHRASE,
        "SIGNING_KEY": settings.signing_keypair.public_key,
        "HORIZON_URL": settings.HORIZON_URI,
        "ACCOUNTS": list(dict.fromkeys(accounts)),
        **service_urls(settings),
    }
    hook = dict(hook or {})
    currencies = _merge_currencies(
        [_currency(a, settings) for a in assets], hook.pop("CURRENCIES", [])
    )
    document.update(hook)
    if currencies:
        document["CURRENCIES"] = currencies
    text = tomli_w.dumps(document)
    if len(text.encode()) > MAX_TOML_BYTES:
        raise ValueError("stellar.toml is larger than SEP-1's 100 KB limit")
    return text
