"""The parameters of ``/deposit`` and ``/withdraw``, validated into a ``TransferRequest``.

GET query strings and POST bodies (JSON or form) arrive here as the same flat mapping
of strings, so both behave identically. Every rule failure is a ``ParamError`` (400)
naming the parameter; nothing is written before the request is valid.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from killick.models import Asset
from killick.sep6 import checks
from killick.sep6.checks import ParamError
from killick.sep6.directions import Direction
from killick.sep6.info import Info
from killick.sep10 import SEP10Token
from killick.settings import Settings

# Parameters SEP-6 4.3 defines for each endpoint (CHECKLIST S6-13..16).
COMMON = (
    "asset_code",
    "account",
    "funding_method",
    "type",
    "memo_type",
    "memo",
    "lang",
    "on_change_callback",
    "amount",
    "country_code",
    "customer_id",
    "location_id",
    "wallet_name",
    "wallet_url",
)
DEPOSIT_ONLY = ("email_address", "claimable_balance_supported")
WITHDRAW_ONLY = ("refund_memo", "refund_memo_type", "dest", "dest_extra")
# The exchange endpoints name the on-chain asset source_asset/destination_asset instead
# of asset_code; amount is always the sell amount (CHECKLIST S6-17/18, P-13).
EXCHANGE = ("source_asset", "destination_asset", "quote_id")
KNOWN = {
    "deposit": COMMON + DEPOSIT_ONLY,
    "withdraw": COMMON + WITHDRAW_ONLY,
    "deposit-exchange": EXCHANGE + COMMON[1:] + DEPOSIT_ONLY,
    "withdraw-exchange": EXCHANGE + COMMON[1:] + WITHDRAW_ONLY,
}


@dataclass(frozen=True)
class TransferRequest:
    """A valid deposit or withdraw request."""

    direction: Direction
    asset: Asset
    account: str  # deposit: where the asset goes; withdraw: the payment's source
    lang: str
    funding_method: str | None = None
    type: str | None = None  # as the wallet sent it (deprecated; funding_method wins)
    amount: Decimal | None = None
    memo: str | None = None
    memo_type: str | None = None
    on_change_callback: str | None = None
    country_code: str | None = None
    claimable_balance_supported: bool = False
    customer_id: str | None = None
    location_id: str | None = None
    email_address: str | None = None
    wallet_name: str | None = None
    wallet_url: str | None = None
    dest: str | None = None
    dest_extra: str | None = None
    refund_memo: str | None = None
    refund_memo_type: str | None = None
    extra: dict[str, str] = field(default_factory=dict)  # further fields /info asked for

    def hook_params(self, asset: Asset | None = None) -> dict[str, Any]:
        """The ``params`` a ``process_sep6_request`` hook receives (django-polaris names).

        ``asset`` is the hook's own copy (the transaction's), never the shared cached one.
        """
        params: dict[str, Any] = {
            "asset": asset or self.asset,
            "asset_code": self.asset.code,
            "account": self.account,
            "lang": self.lang,
            "funding_method": self.funding_method,
            "type": self.type or self.funding_method,
            "amount": self.amount,
            "memo": self.memo,
            "memo_type": self.memo_type,
            "on_change_callback": self.on_change_callback,
            "country_code": self.country_code,
            "customer_id": self.customer_id,
            "location_id": self.location_id,
            "wallet_name": self.wallet_name,
            "wallet_url": self.wallet_url,
        }
        if self.direction.is_deposit:
            params["claimable_balance_supported"] = self.claimable_balance_supported
            params["email_address"] = self.email_address
        else:
            params.update(
                dest=self.dest,
                dest_extra=self.dest_extra,
                refund_memo=self.refund_memo,
                refund_memo_type=self.refund_memo_type,
            )
        params.update(self.extra)
        return params


def _present(raw: Mapping[str, str], name: str) -> str | None:
    """The value, or None when absent or empty (wallets send ``memo=`` for no memo)."""
    value = raw.get(name)
    if value is None or value == "":
        return None
    return checks.text(name, value, checks.MAX_URL)


def _funding_method(
    raw: Mapping[str, str], direction: Direction, entry: dict[str, Any]
) -> tuple[str | None, str | None]:
    """(funding_method, type as sent): ``type`` stands in for a missing funding_method."""
    method = _present(raw, "funding_method")
    sent_type = _present(raw, "type")
    name = "funding_method" if method is not None else "type"
    chosen = method if method is not None else sent_type
    offered: list[str] = entry.get("funding_methods", [])
    if chosen is None:
        if len(offered) > 1:
            raise ParamError("funding_method", f"is required; one of {', '.join(offered)}")
        return (offered[0] if offered else None), None
    checks.text(name, chosen, 64)
    if offered and chosen not in offered:
        raise ParamError(
            name, f"{chosen!r} is not offered for {direction.name}; one of {', '.join(offered)}"
        )
    return chosen, sent_type


def _info_fields(
    raw: Mapping[str, str], direction: Direction, entry: dict[str, Any], method: str | None
) -> dict[str, str]:
    """Values for the fields /info lists (deprecated mechanism): required ones must be
    present, choices respected. Returns those that are not SEP-6 parameters."""
    if direction.is_deposit:
        specs = entry.get("fields", {})
    else:
        specs = entry.get("types", {}).get(method, {}).get("fields", {}) if method else {}
    extra: dict[str, str] = {}
    for name, spec in specs.items():
        if name == "type":
            continue  # funding_method's older name, checked above
        value = _present(raw, name)
        if value is None:
            if not spec.get("optional", False):
                raise ParamError(name, f"is required for this {direction.name} (see /info)")
            continue
        checks.text(name, value)
        if spec.get("choices") and value not in spec["choices"]:
            raise ParamError(name, f"must be one of {', '.join(spec['choices'])}")
        if name not in KNOWN[direction.name]:
            extra[name] = value
    return extra


def find_asset(
    raw: Mapping[str, str], direction: Direction, info: Info, assets: tuple[Asset, ...]
) -> tuple[Asset, dict[str, Any]]:
    code = _present(raw, "asset_code")
    if code is None:
        raise ParamError("asset_code", "is required")
    entry = info.entry(direction.name, code)
    asset = next((a for a in assets if a.code == code and a.sep6_enabled), None)
    if entry is None or asset is None:
        raise ParamError("asset_code", f"{code!r} is not an asset of this anchor (see /info)")
    if not entry["enabled"]:
        raise ParamError("asset_code", f"{direction.name} of {code} is not enabled")
    return asset, entry


def parse_transfer(
    raw: Mapping[str, str],
    direction: Direction,
    *,
    token: SEP10Token,
    settings: Settings,
    info: Info,
    assets: tuple[Asset, ...],
) -> TransferRequest:
    """Validate a deposit or withdraw request against the rules and what /info publishes."""
    asset, entry = find_asset(raw, direction, info, assets)
    lang = checks.language("lang", _present(raw, "lang"), settings)

    account_value = _present(raw, "account")
    # The token's account when none is given (older wallets; CHECKLIST P-08).
    account = (
        checks.account("account", account_value, settings)
        if account_value is not None
        else token.muxed_account or token.account
    )
    method, sent_type = _funding_method(raw, direction, entry)
    memo, memo_type = checks.memo_pair(
        "memo", _present(raw, "memo"), "memo_type", _present(raw, "memo_type")
    )

    amount = None
    if (amount_value := _present(raw, "amount")) is not None:
        low, high = direction.limits(asset)
        amount = checks.asset_amount(
            "amount", checks.amount("amount", amount_value), asset, low, high
        )

    values: dict[str, Any] = {}
    if (url := _present(raw, "on_change_callback")) is not None:
        values["on_change_callback"] = checks.callback_url("on_change_callback", url, settings)
    if (country := _present(raw, "country_code")) is not None:
        values["country_code"] = checks.country_code("country_code", country)
    for name, length in (("customer_id", 64), ("location_id", 64), ("wallet_name", 255)):
        if (value := _present(raw, name)) is not None:
            values[name] = checks.text(name, value, length)
    if (wallet_url := _present(raw, "wallet_url")) is not None:
        values["wallet_url"] = checks.text("wallet_url", wallet_url, checks.MAX_URL)

    if direction.is_deposit:
        if (supported := _present(raw, "claimable_balance_supported")) is not None:
            values["claimable_balance_supported"] = checks.boolean(
                "claimable_balance_supported", supported
            )
        if (address := _present(raw, "email_address")) is not None:
            values["email_address"] = checks.email("email_address", address)
    else:
        for name in ("dest", "dest_extra"):
            if (value := _present(raw, name)) is not None:
                values[name] = checks.text(name, value)
        refund_memo, refund_type = _present(raw, "refund_memo"), _present(raw, "refund_memo_type")
        if (refund_memo is None) != (refund_type is None):
            missing = "refund_memo_type" if refund_type is None else "refund_memo"
            raise ParamError(missing, "refund_memo and refund_memo_type go together")
        if refund_memo is not None and refund_type is not None:
            checks.choice("refund_memo_type", refund_type, checks.MEMO_TYPES)
            values["refund_memo"] = checks.memo("refund_memo", refund_memo, refund_type)
            values["refund_memo_type"] = refund_type

    return TransferRequest(
        direction=direction,
        asset=asset,
        account=account,
        lang=lang,
        funding_method=method,
        type=sent_type,
        amount=amount,
        memo=memo,
        memo_type=memo_type,
        extra=_info_fields(raw, direction, entry, method),
        **values,
    )
