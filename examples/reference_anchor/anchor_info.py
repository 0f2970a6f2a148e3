"""stellar.toml and SEP-6 /info additions of the reference anchor."""

from __future__ import annotations

from typing import Any

from killick.settings import load_settings


def return_toml_contents(*args: Any, **kwargs: Any) -> dict[str, Any]:
    return {
        "DOCUMENTATION": {
            "ORG_NAME": "Killick Reference Anchor",
            "ORG_URL": load_settings().HOST_URL,
            "ORG_DESCRIPTION": "A demonstration anchor running on Killick. Not a real business.",
            "ORG_OFFICIAL_EMAIL": "anchor@example.com",
            "ORG_SUPPORT_EMAIL": "support@example.com",
        }
    }


def sep6_info(
    request: Any, asset: Any, lang: str | None, *args: Any, **kwargs: Any
) -> dict[str, Any]:
    return {
        "funding_methods": ["WIRE"],
        "fields": {
            "type": {"description": "how the funds are sent", "choices": ["WIRE"]},
        },
        "types": {"WIRE": {"fields": {}}},
    }
