"""Checks for single SEP-6 request values; each failure is a 400 naming the parameter.

Every function takes the parameter's name and raw string and returns the clean value or
raises ``ParamError``, whose message starts with the name (``"memo: ..."``).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import urlsplit

from stellar_sdk import StrKey

from killick.errors import APIError
from killick.models import Asset
from killick.money import AmountError, parse_amount, round_amount
from killick.settings import LANGUAGE_TAG, Settings

MAX_TEXT = 255
MAX_URL = 2048
MEMO_TYPES = ("text", "id", "hash")
_AMOUNT = re.compile(r"(\d+(\.\d*)?|\.\d+)", re.ASCII)
_ALPHA3 = re.compile(r"[A-Za-z]{3}", re.ASCII)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class ParamError(APIError):
    """A request parameter that is missing or wrong: 400 ``{"error": "<name>: <why>"}``."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(400, f"{name}: {problem}")
        self.name = name


def text(name: str, value: str, max_length: int = MAX_TEXT) -> str:
    """Any text value: printable, valid UTF-8 and short enough for its column."""
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ParamError(name, "must not contain control characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ParamError(name, "is not valid UTF-8 text") from None
    if len(value) > max_length:
        raise ParamError(name, f"must be at most {max_length} characters")
    return value


def choice(name: str, value: str, choices: tuple[str, ...] | list[str]) -> str:
    if value not in choices:
        raise ParamError(name, f"must be one of {', '.join(choices)}")
    return value


def boolean(name: str, value: str) -> bool:
    """SEP-6 booleans are the strings ``true`` and ``false``."""
    lowered = value.strip().lower()
    if lowered not in ("true", "false"):
        raise ParamError(name, "must be the string true or false")
    return lowered == "true"


def account(name: str, value: str, settings: Settings) -> str:
    """A ``G...`` account, or ``M...`` when ENABLE_SEP_0023; ``C...`` is refused (X-10)."""
    value = value.strip()
    if StrKey.is_valid_ed25519_public_key(value):
        return value
    if StrKey.is_valid_med25519_public_key(value):
        if not settings.ENABLE_SEP_0023:
            raise ParamError(name, "muxed accounts (M...) are not accepted by this anchor")
        return value
    if StrKey.is_valid_contract(value):
        raise ParamError(name, "contract accounts (C...) are not supported; use a G... account")
    raise ParamError(name, "is not a valid Stellar account (G...)")


def memo(name: str, value: str, memo_type: str) -> str:
    """A memo of ``memo_type``: id is a uint64 in decimal, text at most 28 bytes, hash 32
    bytes in base64 (as SEP-6 sends it)."""
    if memo_type == "id":
        if not value.isascii() or not value.isdigit() or int(value) >= 2**64:
            raise ParamError(name, "an id memo is an unsigned 64-bit integer in decimal")
        return str(int(value))  # canonical: no leading zeros
    if memo_type == "text":
        text(name, value)
        if len(value.encode("utf-8")) > 28:
            raise ParamError(name, "a text memo is at most 28 bytes")
        return value
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ParamError(name, "a hash memo is 32 bytes encoded in base64") from None
    if len(raw) != 32:
        raise ParamError(name, "a hash memo is 32 bytes encoded in base64")
    return value


def memo_pair(
    memo_name: str, memo_value: str | None, type_name: str, type_value: str | None
) -> tuple[str | None, str | None]:
    """A memo and its type; a memo without a type is ``text`` (as wallets sent it)."""
    if type_value is not None:
        choice(type_name, type_value, MEMO_TYPES)
        if memo_value is None:
            raise ParamError(memo_name, f"is required when {type_name} is given")
    if memo_value is None:
        return None, None
    kind = type_value or "text"
    return memo(memo_name, memo_value, kind), kind


def callback_url(name: str, value: str, settings: Settings) -> str:
    """An absolute https URL (http allowed in LOCAL_MODE) that is not a private address.

    SEP-24's ``postMessage`` has no meaning in SEP-6 and is refused.
    """
    text(name, value, MAX_URL)
    try:
        parts = urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018 -- raises ValueError for a bad port
    except ValueError:
        raise ParamError(name, "is not a valid URL") from None
    schemes = ("https", "http") if settings.LOCAL_MODE else ("https",)
    if parts.scheme not in schemes or not host:
        raise ParamError(name, f"must be an absolute {' or '.join(schemes)} URL")
    if parts.username or parts.password:
        raise ParamError(name, "must not carry a user name or password")
    if not settings.LOCAL_MODE:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            address = None
        if host == "localhost" or (address is not None and not address.is_global):
            raise ParamError(name, "must point to a public host")
    return value


def language(name: str, value: str | None, settings: Settings) -> str:
    """An RFC 4646 tag; one Killick does not serve falls back to ``en`` (SEP-6)."""
    if value is None or value == "":
        return "en"
    if not LANGUAGE_TAG.fullmatch(value):
        raise ParamError(name, "must be a language tag (RFC 4646), e.g. en or pt-BR")
    tag = value.lower()
    if tag in settings.SEP6_LANGUAGES:
        return tag
    primary = tag.split("-", 1)[0]
    return primary if primary in settings.SEP6_LANGUAGES else "en"


def country_code(name: str, value: str) -> str:
    """ISO 3166-1 alpha-3 (three letters), upper-cased."""
    if not _ALPHA3.fullmatch(value):
        raise ParamError(name, "must be an ISO 3166-1 alpha-3 code, e.g. USA")
    return value.upper()


def email(name: str, value: str) -> str:
    text(name, value, 254)
    if not _EMAIL.fullmatch(value):
        raise ParamError(name, "is not an email address")
    return value


def amount(name: str, value: str) -> Decimal:
    """A positive decimal string a Stellar payment can carry (at most 7 places)."""
    value = value.strip()
    if not _AMOUNT.fullmatch(value):
        raise ParamError(name, "must be a positive decimal number, e.g. 100.50")
    try:
        return parse_amount(value)
    except AmountError as error:
        raise ParamError(name, str(error)) from None


def asset_amount(
    name: str, value: Decimal, asset: Asset, low: Decimal | None, high: Decimal | None
) -> Decimal:
    """``value`` within the asset's decimals and the direction's limits."""
    decimals = asset.significant_decimals
    if value != round_amount(value, decimals):
        raise ParamError(name, f"{asset.code} amounts have at most {decimals} decimal places")
    if low is not None and value < low:
        raise ParamError(name, f"must be at least {low}")
    if high is not None and value > high:
        raise ParamError(name, f"must be at most {high}")
    return value


def timestamp(name: str, value: str) -> datetime:
    """A UTC ISO 8601 time; one without a zone is taken as UTC."""
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ParamError(name, "must be an ISO 8601 time, e.g. 2024-01-31T12:00:00Z") from None
