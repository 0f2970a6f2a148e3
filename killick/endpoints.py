"""Where each SEP is mounted: one table, used by the app and by stellar.toml."""

from __future__ import annotations

from killick.settings import Settings

# SEP -> (path prefix, stellar.toml key)
MOUNTS: dict[str, tuple[str, str]] = {
    "sep-10": ("/auth", "WEB_AUTH_ENDPOINT"),
    "sep-6": ("/sep6", "TRANSFER_SERVER"),
    "sep-12": ("/kyc", "KYC_SERVER"),
    "sep-38": ("/sep38", "ANCHOR_QUOTE_SERVER"),
}


def service_urls(settings: Settings) -> dict[str, str]:
    """The stellar.toml service keys for the active SEPs, as absolute URLs."""
    return {
        key: settings.HOST_URL + prefix
        for sep, (prefix, key) in MOUNTS.items()
        if settings.sep_active(sep)
    }
