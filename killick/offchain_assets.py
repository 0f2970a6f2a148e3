"""Off-chain assets and exchange pairs: the one home for their rules and for changing them.

The CLI (and later the admin view) go through these functions, so a rule holds wherever
they are changed. Every change bumps the configuration version in the same database
transaction, like ``killick.assets``; each process rebuilds SEP-38 ``/info`` and the
SEP-6 exchange blocks from it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from killick.assets import bump_config_version
from killick.models import Asset, ExchangePair, OffChainAsset
from killick.money import STELLAR_DECIMALS
from killick.sep38.identifiers import COUNTRY_CODE, IdentifierError, parse_asset_id

_METHOD_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,64}", re.ASCII)
MAX_DESCRIPTION = 255


class OffChainAssetError(ValueError):
    """An off-chain asset or pair value that breaks a rule; the message names the field."""


def check_offchain_id(value: str) -> str:
    """An ``iso4217:XXX`` identifier (the off-chain scheme SEP-38 defines)."""
    try:
        parsed = parse_asset_id(value)
    except IdentifierError as error:
        raise OffChainAssetError(f"asset: {error}") from None
    if parsed.on_stellar:
        raise OffChainAssetError("asset: an off-chain asset is iso4217:XXX, not a Stellar asset")
    return value


def delivery_methods(name: str, items: Iterable[str | Mapping[str, str]]) -> list[dict[str, str]]:
    """``[{"name", "description"}]`` from names, ``NAME=description`` texts or dicts; the
    description defaults to the name. Names are unique (SEP-6 funding_methods match them)."""
    methods: dict[str, dict[str, str]] = {}
    for item in items:
        if isinstance(item, Mapping):
            method, description = item.get("name", ""), item.get("description") or ""
        else:
            method, _, description = item.partition("=")
        method, description = method.strip(), description.strip()
        if not _METHOD_NAME.fullmatch(method):
            raise OffChainAssetError(
                f"{name}: {method!r} is not a method name (1-64 letters, digits, _ . -)"
            )
        if len(description) > MAX_DESCRIPTION:
            raise OffChainAssetError(f"{name}: a description has at most {MAX_DESCRIPTION} chars")
        if method in methods:
            raise OffChainAssetError(f"{name}: {method} is given twice")
        methods[method] = {"name": method, "description": description or method}
    return list(methods.values())


def country_codes(items: Iterable[str]) -> list[str]:
    codes = []
    for item in items:
        code = item.strip().upper()
        if not COUNTRY_CODE.fullmatch(code):
            raise OffChainAssetError(
                f"country_codes: {item!r} is not ISO 3166-1 alpha-2 or ISO 3166-2 (BR, BR-SP)"
            )
        if code not in codes:
            codes.append(code)
    return codes


def _check_values(values: dict[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for key, value in values.items():
        if key == "decimals":
            if isinstance(value, bool) or not isinstance(value, int):
                raise OffChainAssetError("decimals: a whole number")
            if not 0 <= value <= STELLAR_DECIMALS:
                raise OffChainAssetError(f"decimals: from 0 to {STELLAR_DECIMALS}")
        elif key == "country_codes":
            value = country_codes(value)
        elif key in ("sell_delivery_methods", "buy_delivery_methods"):
            value = delivery_methods(key, value)
        else:
            raise OffChainAssetError(f"{key}: not an off-chain asset setting")
        clean[key] = value
    return clean


async def find_offchain_asset(session: AsyncSession, identifier: str) -> OffChainAsset:
    found = await session.get(OffChainAsset, identifier)
    if found is None:
        raise OffChainAssetError(f"asset: no off-chain asset {identifier}")
    return found


async def create_offchain_asset(
    session: AsyncSession, identifier: str, **values: Any
) -> OffChainAsset:
    """Validate and add an off-chain asset (the caller commits)."""
    check_offchain_id(identifier)
    if await session.get(OffChainAsset, identifier) is not None:
        raise OffChainAssetError(f"asset: {identifier} exists already; use update")
    asset = OffChainAsset(
        id=identifier,
        decimals=2,
        country_codes=[],
        sell_delivery_methods=[],
        buy_delivery_methods=[],
    )
    for key, value in _check_values(values).items():
        setattr(asset, key, value)
    session.add(asset)
    await bump_config_version(session)
    return asset


async def update_offchain_asset(
    session: AsyncSession, identifier: str, **values: Any
) -> OffChainAsset:
    """Validate and apply changes (the caller commits; nothing changes on error)."""
    clean = _check_values(values)
    asset = await find_offchain_asset(session, identifier)
    for key, value in clean.items():
        setattr(asset, key, value)
    await bump_config_version(session)
    return asset


async def remove_offchain_asset(session: AsyncSession, identifier: str) -> None:
    """Remove the asset and every pair it is in. Quotes already given stay readable."""
    asset = await find_offchain_asset(session, identifier)
    await session.execute(
        delete(ExchangePair).where(
            or_(ExchangePair.sell_asset == identifier, ExchangePair.buy_asset == identifier)
        )
    )
    await session.delete(asset)
    await bump_config_version(session)


async def _check_side(session: AsyncSession, name: str, identifier: str) -> bool:
    """Whether the side exists (True: on Stellar); OffChainAssetError if it does not."""
    try:
        parsed = parse_asset_id(identifier)
    except IdentifierError as error:
        raise OffChainAssetError(f"{name}: {error}") from None
    if not parsed.on_stellar:
        if await session.get(OffChainAsset, identifier) is None:
            raise OffChainAssetError(f"{name}: no off-chain asset {identifier}")
        return False
    if parsed.issuer is None:
        raise OffChainAssetError(f"{name}: stellar:native is not an asset Killick serves")
    found = await session.scalar(
        select(Asset.id).where(Asset.code == parsed.code, Asset.issuer == parsed.issuer)
    )
    if found is None:
        raise OffChainAssetError(f"{name}: no asset {parsed.code} issued by {parsed.issuer}")
    return True


async def add_pair(session: AsyncSession, sell_asset: str, buy_asset: str) -> ExchangePair:
    """Let users sell ``sell_asset`` for ``buy_asset``: one off-chain asset and one Stellar
    asset (of ``killick asset``; it must have sep38_enabled to be offered)."""
    sell_on_stellar = await _check_side(session, "sell_asset", sell_asset)
    buy_on_stellar = await _check_side(session, "buy_asset", buy_asset)
    if sell_on_stellar == buy_on_stellar:
        raise OffChainAssetError("pair: one side is off-chain (iso4217:), the other on Stellar")
    if await session.get(ExchangePair, (sell_asset, buy_asset)) is not None:
        raise OffChainAssetError(f"pair: {sell_asset} -> {buy_asset} exists already")
    pair = ExchangePair(sell_asset=sell_asset, buy_asset=buy_asset)
    session.add(pair)
    await bump_config_version(session)
    return pair


async def remove_pair(session: AsyncSession, sell_asset: str, buy_asset: str) -> None:
    pair = await session.get(ExchangePair, (sell_asset, buy_asset))
    if pair is None:
        raise OffChainAssetError(f"pair: no pair {sell_asset} -> {buy_asset}")
    await session.delete(pair)
    await bump_config_version(session)
