"""``GET /info``: built once per configuration version and language, served from memory.

Per asset, the ``sep6_info`` hook adds what only the anchor knows: ``funding_methods``
(a list for both directions, or ``{"deposit": [...], "withdraw": [...]}``), and the
deprecated deposit ``fields`` and withdraw ``types``. Old wallets read ``fields.type``
and ``types`` and never ``funding_methods`` (CHECKLIST S6-49), so Killick publishes each
form from the other when the hook gives only one. The hook's answer is cached per asset
and language: it must depend on those only, never on the request. With SEP-38 active,
``deposit-exchange``/``withdraw-exchange`` come from ``exchange_info``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from killick.context import Context
from killick.integrations import call_hook, registry
from killick.models import Asset
from killick.sep6.directions import DEPOSIT, WITHDRAW
from killick.sep6.exchange_info import exchange_blocks
from killick.sep6.fees import limit_fields, static_fee_fields
from killick.sep6.hook_answers import HookAnswerError

log = logging.getLogger(__name__)

TYPE_FIELD_DESCRIPTION = "how the funds are moved (the older name of funding_method)"


@dataclass(frozen=True)
class Info:
    """The /info document and its JSON bytes, as served."""

    document: dict[str, Any]
    body: bytes

    def entry(self, direction: str, code: str) -> dict[str, Any] | None:
        return self.document.get(direction, {}).get(code)


def _field_specs(name: str, value: object) -> dict[str, dict[str, Any]]:
    if not isinstance(value, dict):
        raise HookAnswerError(f"{name} must be a dict of field name -> description")
    for field_name, spec in value.items():
        if not isinstance(field_name, str) or not isinstance(spec, dict):
            raise HookAnswerError(f"{name}[{field_name!r}] must be a dict")
        if set(spec) - {"description", "optional", "choices"}:
            raise HookAnswerError(f"{name}[{field_name!r}]: only description, optional, choices")
        if not isinstance(spec.get("description", ""), str):
            raise HookAnswerError(f"{name}[{field_name!r}].description must be a str")
        if not isinstance(spec.get("optional", False), bool):
            raise HookAnswerError(f"{name}[{field_name!r}].optional must be a bool")
        choices = spec.get("choices", [])
        if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
            raise HookAnswerError(f"{name}[{field_name!r}].choices must be a list of str")
    return value


def _methods(name: str, value: object) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(m, str) and m for m in value):
        raise HookAnswerError(f"{name} must be a list of method names")
    return list(dict.fromkeys(value))


@dataclass(frozen=True)
class _Published:
    fields: dict[str, dict[str, Any]]
    types: dict[str, dict[str, Any]]
    deposit_methods: list[str]
    withdraw_methods: list[str]


def _read_hook(answer: object) -> _Published:
    if answer is None:
        answer = {}
    if not isinstance(answer, dict):
        raise HookAnswerError(f"the answer must be a dict, not {type(answer).__name__}")
    unknown = set(answer) - {"fields", "types", "funding_methods"}
    if unknown:
        raise HookAnswerError(f"unknown keys {sorted(unknown)}")
    fields = dict(_field_specs("fields", answer.get("fields", {})))
    types: dict[str, dict[str, Any]] = {}
    for type_name, spec in (answer.get("types") or {}).items():
        if not isinstance(spec, dict) or set(spec) - {"fields"}:
            raise HookAnswerError(f"types[{type_name!r}] must be {{'fields': {{...}}}}")
        types[type_name] = {"fields": _field_specs("types.fields", spec.get("fields", {}))}
    methods = answer.get("funding_methods")
    if isinstance(methods, dict):
        if set(methods) - {"deposit", "withdraw"}:
            raise HookAnswerError("funding_methods: a list, or a dict with deposit and withdraw")
        deposit = _methods("funding_methods.deposit", methods.get("deposit", []))
        withdraw = _methods("funding_methods.withdraw", methods.get("withdraw", []))
    elif methods is not None:
        deposit = withdraw = _methods("funding_methods", methods)
    else:
        deposit = list(fields.get("type", {}).get("choices", []))
        withdraw = list(types)
    return _Published(fields, types, deposit, withdraw)


def _deposit_entry(asset: Asset, published: _Published) -> dict[str, Any]:
    if not DEPOSIT.enabled(asset):
        return {"enabled": False}
    entry: dict[str, Any] = {
        "enabled": True,
        "authentication_required": True,
        **limit_fields(DEPOSIT, asset),
        **static_fee_fields(DEPOSIT, asset),
    }
    fields = dict(published.fields)
    if published.deposit_methods:
        entry["funding_methods"] = published.deposit_methods
        fields.setdefault(
            "type", {"description": TYPE_FIELD_DESCRIPTION, "choices": published.deposit_methods}
        )
    if fields:
        entry["fields"] = fields
    return entry


def _withdraw_entry(asset: Asset, published: _Published) -> dict[str, Any]:
    if not WITHDRAW.enabled(asset):
        return {"enabled": False}
    entry: dict[str, Any] = {
        "enabled": True,
        "authentication_required": True,
        **limit_fields(WITHDRAW, asset),
        **static_fee_fields(WITHDRAW, asset),
    }
    types = dict(published.types)
    if published.withdraw_methods:
        entry["funding_methods"] = published.withdraw_methods
        for method in published.withdraw_methods:
            types.setdefault(method, {"fields": {}})
    if types:
        entry["types"] = types
    return entry


async def build_info(
    context: Context, assets: tuple[Asset, ...], request: Request, lang: str
) -> Info:
    """The whole /info document; the hook is called once per SEP-6 asset."""
    deposit: dict[str, Any] = {}
    withdraw: dict[str, Any] = {}
    published_by_code: dict[str, _Published] = {}
    for asset in assets:
        if not asset.sep6_enabled or asset.code in deposit:
            continue  # SEP-6 keys assets by code: the first of a code wins
        answer = await call_hook(registry.sep6_info, request, asset, lang)
        try:
            published = _read_hook(answer)
        except HookAnswerError as error:
            log.error("sep6_info hook answered wrongly for %s (%s): %s", asset.code, lang, error)
            raise
        published_by_code[asset.code] = published
        deposit[asset.code] = _deposit_entry(asset, published)
        withdraw[asset.code] = _withdraw_entry(asset, published)
    settings = context.settings
    document: dict[str, Any] = {"deposit": deposit, "withdraw": withdraw}
    if settings.sep_active("sep-38"):
        document.update(await exchange_blocks(context, assets, published_by_code))
    document |= {
        "fee": {"enabled": True, "authentication_required": False},
        "transactions": {"enabled": True, "authentication_required": True},
        "transaction": {"enabled": True, "authentication_required": True},
        "features": {
            "account_creation": settings.SEP6_ACCOUNT_CREATION,
            "claimable_balances": settings.SEP6_CLAIMABLE_BALANCES,
        },
    }
    return Info(document=document, body=json.dumps(document).encode())


async def current_info(context: Context, request: Request, lang: str) -> Info:
    """The cached /info for ``lang``, rebuilt when assets change (in any process)."""
    snapshot = await context.catalog.current()
    return await snapshot.derived(
        ("sep6-info", lang), lambda: build_info(context, snapshot.assets, request, lang)
    )
