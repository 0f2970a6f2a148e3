"""Builders the SEP-38 and SEP-6 exchange tests share: a BRL <-> USDC market."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from killick.encryption import SeedCipher
from killick.integrations import register_integrations
from killick.integrations.fixed_rate import FixedRateQuotes
from killick.models import Asset, Quote
from killick.offchain_assets import add_pair, create_offchain_asset
from tests.helpers import bearer
from tests.sep6_support import add_asset

ACTIVE = "sep-1,sep-10,sep-6,sep-12,sep-38"
BRL = "iso4217:BRL"
PIX = {"name": "PIX", "description": "Instant transfer"}
WIRE = {"name": "WIRE", "description": "Bank wire"}


@dataclass
class MarketSetup:
    usdc: Asset
    usdc_id: str
    quotes: FixedRateQuotes


async def add_market(
    sessions: async_sessionmaker[AsyncSession],
    cipher: SeedCipher,
    *,
    rate: str = "5.00",
    fee_percent: str = "1",
    fee_fixed: str = "2",
    valid_seconds: int = 300,
    brl_methods: tuple[dict[str, str], ...] = (PIX, WIRE),
    **asset_values: Any,
) -> MarketSetup:
    """USDC (2 decimals, SEP-6 and SEP-38) and BRL (2 decimals, PIX and WIRE, BR),
    traded both ways at ``rate`` BRL per USDC, with a fixed-rate quote integration."""
    asset_values.setdefault("sep38_enabled", True)
    usdc = await add_asset(sessions, cipher, "USDC", **asset_values)
    usdc_id = f"stellar:USDC:{usdc.issuer}"
    async with sessions() as session:
        await create_offchain_asset(
            session,
            BRL,
            decimals=2,
            country_codes=["BR"],
            sell_delivery_methods=list(brl_methods),
            buy_delivery_methods=list(brl_methods),
        )
        await add_pair(session, BRL, usdc_id)
        await add_pair(session, usdc_id, BRL)
        await session.commit()
    quotes = FixedRateQuotes(
        {(BRL, usdc_id): rate, (usdc_id, BRL): str(1 / Decimal(rate))},
        fee_percent=fee_percent,
        fee_fixed={BRL: fee_fixed, usdc_id: "0.5"},
        valid_seconds=valid_seconds,
        max_valid_seconds=3600,
    )
    register_integrations(quote=quotes)
    return MarketSetup(usdc, usdc_id, quotes)


class QuoteWallet:
    """A wallet talking to SEP-38 with its own token."""

    def __init__(self, client: httpx.AsyncClient, headers: dict[str, str] | None = None) -> None:
        self.client = client
        self.headers = headers if headers is not None else bearer()

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.client.get("/sep38" + path, params=params, headers=self.headers)

    async def quote(self, **body: Any) -> httpx.Response:
        body.setdefault("context", "sep6")
        return await self.client.post("/sep38/quote", json=body, headers=self.headers)


async def count_quotes(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Quote)) or 0)
