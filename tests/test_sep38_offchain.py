"""Off-chain assets and exchange pairs: their rules, the CLI, and the cache per version."""

from __future__ import annotations

import asyncio

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from stellar_sdk import Keypair

from killick.cli import main
from killick.db import create_engine, session_factory
from killick.models import ConfigVersion, ExchangePair, OffChainAsset
from killick.offchain_assets import (
    OffChainAssetError,
    add_pair,
    create_offchain_asset,
    remove_offchain_asset,
    remove_pair,
    update_offchain_asset,
)
from tests.helpers import JWT_KEY, SIGNING, make_settings
from tests.sep6_support import add_asset
from tests.sep38_support import ACTIVE, BRL, add_market


async def version(session) -> int:
    return await session.scalar(select(ConfigVersion.version)) or 0


async def test_create_update_remove_bump_the_version(session) -> None:
    start = await version(session)
    asset = await create_offchain_asset(
        session,
        BRL,
        decimals=2,
        country_codes=["br", "BR-SP"],
        sell_delivery_methods=["PIX=Instant transfer", {"name": "WIRE"}],
    )
    await session.commit()
    assert asset.country_codes == ["BR", "BR-SP"]
    assert asset.sell_delivery_methods == [
        {"name": "PIX", "description": "Instant transfer"},
        {"name": "WIRE", "description": "WIRE"},
    ]
    assert asset.buy_delivery_methods == []
    assert await version(session) == start + 1
    await update_offchain_asset(session, BRL, decimals=4)
    await session.commit()
    assert (await session.get(OffChainAsset, BRL)).decimals == 4
    await remove_offchain_asset(session, BRL)
    await session.commit()
    assert await session.get(OffChainAsset, BRL) is None
    assert await version(session) == start + 3


@pytest.mark.parametrize(
    ("identifier", "values", "field"),
    [
        ("BRL", {}, "asset"),
        ("iso4217:brl", {}, "asset"),
        ("iso4217:BRLX", {}, "asset"),
        (f"stellar:USDC:{Keypair.random().public_key}", {}, "asset"),
        (BRL, {"decimals": 8}, "decimals"),
        (BRL, {"decimals": -1}, "decimals"),
        (BRL, {"decimals": "2"}, "decimals"),
        (BRL, {"country_codes": ["BRA"]}, "country_codes"),
        (BRL, {"sell_delivery_methods": ["has space"]}, "sell_delivery_methods"),
        (BRL, {"buy_delivery_methods": ["PIX", "PIX"]}, "buy_delivery_methods"),
        (BRL, {"colour": "green"}, "colour"),
    ],
)
async def test_rules_refuse_bad_values(session, identifier, values, field) -> None:
    with pytest.raises(OffChainAssetError, match=rf"^{field}:"):
        await create_offchain_asset(session, identifier, **values)


async def test_an_asset_exists_once(session) -> None:
    await create_offchain_asset(session, BRL)
    with pytest.raises(OffChainAssetError, match="exists already"):
        await create_offchain_asset(session, BRL)


async def test_pairs_join_an_off_chain_and_a_stellar_asset(session, sessions, cipher) -> None:
    usdc = await add_asset(sessions, cipher, "USDC", sep38_enabled=True)
    usdc_id = f"stellar:USDC:{usdc.issuer}"
    await create_offchain_asset(session, BRL)
    await create_offchain_asset(session, "iso4217:USD")
    await add_pair(session, BRL, usdc_id)
    with pytest.raises(OffChainAssetError, match="exists already"):
        await add_pair(session, BRL, usdc_id)
    with pytest.raises(OffChainAssetError, match=r"^pair: one side"):
        await add_pair(session, BRL, "iso4217:USD")
    with pytest.raises(OffChainAssetError, match=r"^buy_asset: no asset"):
        await add_pair(session, BRL, f"stellar:EURC:{usdc.issuer}")
    with pytest.raises(OffChainAssetError, match=r"^sell_asset: no off-chain asset"):
        await add_pair(session, "iso4217:EUR", usdc_id)
    with pytest.raises(OffChainAssetError, match=r"^buy_asset: stellar:native"):
        await add_pair(session, BRL, "stellar:native")
    await add_pair(session, usdc_id, BRL)
    await session.commit()
    await remove_offchain_asset(session, BRL)  # takes its pairs along
    await session.commit()
    assert (await session.scalars(select(ExchangePair))).all() == []
    with pytest.raises(OffChainAssetError, match="no pair"):
        await remove_pair(session, BRL, usdc_id)


@pytest.fixture
def settings(database_url):
    return make_settings(DATABASE_URL=database_url, ACTIVE_SEPS=ACTIVE)


async def test_info_follows_changes_in_any_process(client, sessions, cipher) -> None:
    setup = await add_market(sessions, cipher)
    assert len((await client.get("/sep38/info")).json()["assets"]) == 2
    async with sessions() as session:  # as `killick pair remove` in another process would
        await remove_pair(session, BRL, setup.usdc_id)
        await remove_pair(session, setup.usdc_id, BRL)
        await session.commit()
    assert (await client.get("/sep38/info")).json() == {"assets": []}
    sep6 = (await client.get("/sep6/info")).json()
    assert sep6["deposit-exchange"] == {} and sep6["withdraw-exchange"] == {}


async def test_pairs_of_an_asset_without_sep38_are_not_offered(client, sessions, cipher) -> None:
    await add_market(sessions, cipher, sep38_enabled=False)
    assert (await client.get("/sep38/info")).json() == {"assets": []}


async def test_without_a_quote_integration_nothing_is_traded(client, sessions, cipher) -> None:
    from killick.integrations import reset_integrations

    setup = await add_market(sessions, cipher)
    reset_integrations()
    assert (await client.get("/sep38/info")).json() == {"assets": []}
    response = await client.get(
        "/sep38/price",
        params={
            "sell_asset": BRL,
            "buy_asset": setup.usdc_id,
            "sell_amount": "1",
            "context": "sep6",
        },
    )
    assert response.status_code == 400


# -- the CLI ---------------------------------------------------------------------------------


@pytest.fixture
def run(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    env = {
        "DATABASE_URL": database_url,
        "SIGNING_SEED": SIGNING.secret,
        "SERVER_JWT_KEY": JWT_KEY,
        "LOCAL_MODE": "1",
    }

    def invoke(*args: str):
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)

    return invoke


def rows(database_url: str, model) -> list:
    async def load() -> list:
        engine = create_engine(database_url)
        async with session_factory(engine)() as session:
            found = list((await session.scalars(select(model))).all())
        await engine.dispose()
        return found

    return asyncio.run(load())


def test_cli_manages_off_chain_assets_and_pairs(run, database_url) -> None:
    issuer = Keypair.random().public_key
    assert run("asset", "add", "USDC", "--issuer", issuer, "--sep6-enabled").exit_code == 0
    result = run(
        "offchain",
        "add",
        BRL,
        "--decimals",
        "2",
        "--delivery-methods",
        "PIX,WIRE=Bank wire",
        "--country-codes",
        "BR",
    )
    assert result.exit_code == 0, result.output
    [brl] = rows(database_url, OffChainAsset)
    assert brl.sell_delivery_methods == brl.buy_delivery_methods
    assert brl.sell_delivery_methods[1] == {"name": "WIRE", "description": "Bank wire"}
    result = run("offchain", "update", BRL, "--buy-delivery-methods", "PIX")
    assert result.exit_code == 0, result.output
    assert rows(database_url, OffChainAsset)[0].buy_delivery_methods == [
        {"name": "PIX", "description": "PIX"}
    ]
    result = run("pair", "add", BRL, f"stellar:USDC:{issuer}", "--both-ways")
    assert result.exit_code == 0, result.output
    assert len(rows(database_url, ExchangePair)) == 2
    listing = run("pair", "list").output
    assert "lacks --sep38-enabled" in listing
    run("asset", "update", "USDC", "--sep38-enabled")
    assert "lacks" not in run("pair", "list").output
    assert "countries=BR sell=PIX,WIRE buy=PIX" in run("offchain", "list").output
    assert run("pair", "remove", BRL, f"stellar:USDC:{issuer}").exit_code == 0
    assert run("offchain", "remove", BRL).exit_code == 0
    assert rows(database_url, ExchangePair) == []


def test_cli_errors_name_the_field_and_write_nothing(run, database_url) -> None:
    result = run("offchain", "add", "iso4217:BRL", "--decimals", "9")
    assert result.exit_code == 1
    assert "decimals:" in result.output
    result = run("pair", "add", "iso4217:BRL", "iso4217:USD")
    assert result.exit_code == 1
    assert "no off-chain asset" in result.output
    assert rows(database_url, OffChainAsset) == []
