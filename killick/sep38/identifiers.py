"""SEP-38 asset identifiers: ``stellar:CODE:ISSUER``, ``stellar:native``, ``iso4217:XXX``.

Identifiers are compared exactly (CHECKLIST S38-03), so they are checked, never rewritten:
``iso4217:brl`` is refused with a hint rather than quietly taken for ``iso4217:BRL``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stellar_sdk import StrKey

NATIVE = "stellar:native"
_STELLAR_CODE = re.compile(r"[A-Za-z0-9]{1,12}", re.ASCII)
_ISO4217 = re.compile(r"[A-Z]{3}", re.ASCII)
# SEP-38 country codes: ISO 3166-1 alpha-2, or ISO 3166-2 (country and subdivision).
COUNTRY_CODE = re.compile(r"[A-Z]{2}(-[A-Z0-9]{1,3})?", re.ASCII)


class IdentifierError(ValueError):
    """Not an asset identifier in the SEP-38 format (the message says why)."""


@dataclass(frozen=True)
class AssetId:
    """A parsed identifier: ``scheme`` is ``stellar`` or ``iso4217``."""

    value: str
    scheme: str
    code: str
    issuer: str | None = None

    @property
    def on_stellar(self) -> bool:
        return self.scheme == "stellar"


def parse_asset_id(value: str) -> AssetId:
    """The identifier ``value`` stands for; IdentifierError if it is not one."""
    scheme, _, rest = value.partition(":")
    if scheme == "stellar":
        if value == NATIVE:
            return AssetId(value, "stellar", "native")
        code, _, issuer = rest.partition(":")
        if not _STELLAR_CODE.fullmatch(code):
            raise IdentifierError("a Stellar asset is stellar:CODE:ISSUER (code of 1-12 letters)")
        if not StrKey.is_valid_ed25519_public_key(issuer):
            raise IdentifierError("a Stellar asset is stellar:CODE:ISSUER (issuer a G... key)")
        return AssetId(value, "stellar", code, issuer)
    if scheme == "iso4217":
        if not _ISO4217.fullmatch(rest):
            raise IdentifierError("a fiat currency is iso4217: and 3 capital letters, e.g. BRL")
        return AssetId(value, "iso4217", rest)
    raise IdentifierError(
        "use the SEP-38 format: stellar:CODE:ISSUER, stellar:native or iso4217:XXX"
    )


def stellar_id(code: str, issuer: str) -> str:
    return f"stellar:{code}:{issuer}"
