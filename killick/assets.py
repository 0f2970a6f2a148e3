"""Assets: the one home for their rules (codes, keys, fees, limits) and for changing them.

The CLI and (later) the admin view both go through ``create_asset``/``update_asset``, so
a rule holds wherever an asset is changed. Every change bumps the configuration version
in the same database transaction; each process rebuilds stellar.toml and /info from it.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from stellar_sdk import Keypair, StrKey

from killick.encryption import SeedCipher
from killick.models import Asset, ChannelAccount, ConfigVersion
from killick.money import STELLAR_DECIMALS, AmountError, parse_amount

_CODE = re.compile(r"^[A-Za-z0-9]{1,12}$")
DIRECTIONS = ("deposit", "withdrawal")
AMOUNT_FIELDS = tuple(
    f"{direction}_{name}"
    for direction in DIRECTIONS
    for name in ("fee_fixed", "fee_percent", "min_amount", "max_amount")
)
FLAG_FIELDS = (
    "deposit_enabled",
    "withdrawal_enabled",
    "sep6_enabled",
    "sep24_enabled",
    "sep31_enabled",
    "sep38_enabled",
)
TEXT_FIELDS = ("symbol", "name")
EDITABLE = (*AMOUNT_FIELDS, *FLAG_FIELDS, *TEXT_FIELDS, "significant_decimals")


class AssetError(ValueError):
    """An asset value that breaks a rule; the message names the field."""


def _check_code(code: str) -> str:
    if not _CODE.match(code or ""):
        raise AssetError("code: 1 to 12 letters or digits, e.g. USDC")
    return code


def _check_account(name: str, value: str) -> str:
    if not StrKey.is_valid_ed25519_public_key(value or ""):
        raise AssetError(f"{name}: not a valid Stellar account (G...)")
    return value


def _check_values(values: dict[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for key, value in values.items():
        if key not in EDITABLE:
            raise AssetError(f"{key}: not an asset setting")
        if key in AMOUNT_FIELDS and value is not None:
            try:
                value = parse_amount(value, allow_zero=True)
            except AmountError as error:
                raise AssetError(f"{key}: {error}") from None
            if key.endswith("fee_percent") and value > 100:
                raise AssetError(f"{key}: a percentage between 0 and 100")
        elif key == "significant_decimals":
            if not isinstance(value, int) or not 0 <= value <= STELLAR_DECIMALS:
                raise AssetError(
                    f"significant_decimals: a whole number from 0 to {STELLAR_DECIMALS}"
                )
        elif key in FLAG_FIELDS:
            value = bool(value)
        elif key == "symbol" and value is not None and len(value) > 8:
            raise AssetError("symbol: at most 8 characters")
        elif key == "name" and value is not None and len(value) > 20:
            raise AssetError("name: at most 20 characters (SEP-1)")
        clean[key] = value
    return clean


def _check_limits(asset: Asset) -> None:
    for direction in DIRECTIONS:
        low: Decimal | None = getattr(asset, f"{direction}_min_amount")
        high: Decimal | None = getattr(asset, f"{direction}_max_amount")
        if low is not None and high is not None and low > high:
            raise AssetError(f"{direction}_min_amount: must not exceed {direction}_max_amount")


def _apply_distribution(
    asset: Asset, cipher: SeedCipher, account: str | None, seed: str | None
) -> None:
    if seed is not None:
        try:
            keypair = Keypair.from_secret(seed)
        except ValueError:
            raise AssetError("distribution_seed: not a valid Stellar secret seed (S...)") from None
        if account is not None and account != keypair.public_key:
            raise AssetError("distribution_account: does not match distribution_seed")
        asset.distribution_account = keypair.public_key
        asset.set_distribution_seed(cipher, seed)
    elif account is not None:
        asset.distribution_account = _check_account("distribution_account", account)


async def bump_config_version(session: AsyncSession) -> None:
    """Tell every process (at its next check) that assets changed."""
    result = await session.execute(
        update(ConfigVersion).where(ConfigVersion.id == 1).values(version=ConfigVersion.version + 1)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        session.add(ConfigVersion(id=1, version=1))


async def find_asset(session: AsyncSession, code: str, issuer: str | None = None) -> Asset:
    """The asset with this code (and issuer, needed when two share a code)."""
    query = select(Asset).where(Asset.code == code)
    if issuer:
        query = query.where(Asset.issuer == issuer)
    assets = list((await session.scalars(query)).all())
    if not assets:
        raise AssetError(f"code: no asset {code}" + (f" issued by {issuer}" if issuer else ""))
    if len(assets) > 1:
        raise AssetError(f"code: several assets are called {code}; give the issuer")
    return assets[0]


async def create_asset(
    session: AsyncSession,
    cipher: SeedCipher,
    *,
    code: str,
    issuer: str,
    distribution_account: str | None = None,
    distribution_seed: str | None = None,
    **values: Any,
) -> Asset:
    """Validate and add an asset (the caller commits)."""
    _check_code(code)
    _check_account("issuer", issuer)
    existing = await session.scalar(
        select(Asset.id).where(Asset.code == code, Asset.issuer == issuer)
    )
    if existing is not None:
        raise AssetError(f"code: {code} issued by {issuer} exists already; use update")
    asset = Asset(code=code, issuer=issuer, significant_decimals=2)
    for key, value in _check_values(values).items():
        setattr(asset, key, value)
    _check_limits(asset)
    _apply_distribution(asset, cipher, distribution_account, distribution_seed)
    session.add(asset)
    await bump_config_version(session)
    return asset


async def update_asset(
    session: AsyncSession,
    cipher: SeedCipher,
    asset: Asset,
    *,
    distribution_account: str | None = None,
    distribution_seed: str | None = None,
    **values: Any,
) -> Asset:
    """Validate and apply changes to ``asset`` (the caller commits; nothing on error)."""
    clean = _check_values(values)
    previous = {key: getattr(asset, key) for key in clean}
    for key, value in clean.items():
        setattr(asset, key, value)
    try:
        _check_limits(asset)
        _apply_distribution(asset, cipher, distribution_account, distribution_seed)
    except AssetError:
        for key, value in previous.items():
            setattr(asset, key, value)
        raise
    await bump_config_version(session)
    return asset


def add_channel_accounts(session: AsyncSession, cipher: SeedCipher, secrets: list[str]) -> None:
    """Store channel accounts (seeds encrypted like distribution seeds; the caller commits)."""
    for secret in secrets:
        try:
            public_key = Keypair.from_secret(secret).public_key
        except ValueError:
            raise AssetError("channel seed: not a valid Stellar secret seed (S...)") from None
        session.add(ChannelAccount(public_key=public_key, seed_encrypted=cipher.encrypt(secret)))
