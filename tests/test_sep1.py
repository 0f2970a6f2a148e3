"""SEP-1: stellar.toml generated from settings and assets, merged with the hook."""

from __future__ import annotations

import tomllib

import httpx
from stellar_sdk import Keypair

from killick.app import create_app
from killick.assets import create_asset, find_asset, update_asset
from killick.db import session_factory
from killick.encryption import SeedCipher
from killick.integrations import register_integrations
from tests.helpers import SIGNING, make_settings

TOML = "/.well-known/stellar.toml"


async def add_asset(sessions, cipher: SeedCipher, code: str = "USDC", **values):
    async with sessions() as session:
        distribution = Keypair.random()
        asset = await create_asset(
            session,
            cipher,
            code=code,
            issuer=Keypair.random().public_key,
            distribution_seed=distribution.secret,
            sep6_enabled=True,
            **values,
        )
        await session.commit()
        return asset


async def test_toml_lists_services_keys_and_assets(
    client: httpx.AsyncClient, sessions, cipher
) -> None:
    asset = await add_asset(sessions, cipher)
    response = await client.get(TOML)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["access-control-allow-origin"] == "*"
    document = tomllib.loads(response.text)
    assert document["VERSION"] == "2.7.0"
    assert document["NETWORK_PASSPHRASE"] == "Test SDF Network ; September 2015"
    assert document["SIGNING_KEY"] == SIGNING.public_key
    assert document["WEB_AUTH_ENDPOINT"] == "http://testserver/auth"
    assert document["TRANSFER_SERVER"] == "http://testserver/sep6"
    assert document["KYC_SERVER"] == "http://testserver/kyc"
    assert "ANCHOR_QUOTE_SERVER" not in document  # sep-38 not active
    assert asset.distribution_account in document["ACCOUNTS"]
    [currency] = document["CURRENCIES"]
    assert currency["code"] == "USDC"
    assert currency["issuer"] == asset.issuer
    assert currency["status"] == "test"


async def test_hook_wins_per_key_and_merges_currencies(
    client: httpx.AsyncClient, sessions, cipher
) -> None:
    asset = await add_asset(sessions, cipher)

    async def toml_hook() -> dict:  # type: ignore[type-arg]
        return {
            "DOCUMENTATION": {"ORG_NAME": "Example Anchor"},
            "HORIZON_URL": "https://horizon.example",
            "CURRENCIES": [{"code": "USDC", "issuer": asset.issuer, "anchor_asset_type": "fiat"}],
        }

    register_integrations(toml=toml_hook)
    document = tomllib.loads((await client.get(TOML)).text)
    assert document["DOCUMENTATION"]["ORG_NAME"] == "Example Anchor"
    assert document["HORIZON_URL"] == "https://horizon.example"
    [currency] = document["CURRENCIES"]
    assert currency["anchor_asset_type"] == "fiat"
    assert currency["display_decimals"] == 2


async def test_change_from_another_process_is_picked_up(database_url, engine, cipher) -> None:
    # The server caches the toml; a CLI in another process changes the asset.
    app = create_app(
        make_settings(DATABASE_URL=database_url, CONFIG_RECHECK_SECONDS=0), engine=engine
    )
    sessions = session_factory(engine)
    await add_asset(sessions, cipher, code="EURT")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        first = tomllib.loads((await client.get(TOML)).text)
        assert first["CURRENCIES"][0]["display_decimals"] == 2
        async with sessions() as session:  # stands for the other process
            found = await find_asset(session, "EURT")
            await update_asset(session, cipher, found, significant_decimals=4)
            await session.commit()
        second = tomllib.loads((await client.get(TOML)).text)
        assert second["CURRENCIES"][0]["display_decimals"] == 4


async def test_cached_between_rechecks(database_url, engine, cipher) -> None:
    calls = []

    def toml_hook() -> dict:  # type: ignore[type-arg]
        calls.append(1)
        return {}

    register_integrations(toml=toml_hook)
    app = create_app(
        make_settings(DATABASE_URL=database_url, CONFIG_RECHECK_SECONDS=60), engine=engine
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        for _ in range(5):
            assert (await client.get(TOML)).status_code == 200
    assert len(calls) == 1


async def test_unknown_path_is_json_404_with_cors(client: httpx.AsyncClient) -> None:
    response = await client.get("/no/such/path")
    assert response.status_code == 404
    assert response.json() == {"error": "Not Found"}
    assert response.headers["access-control-allow-origin"] == "*"


async def test_preflight_is_answered(client: httpx.AsyncClient) -> None:
    response = await client.options(
        TOML,
        headers={
            "Origin": "https://wallet.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "*"
    assert "authorization" in response.headers["access-control-allow-headers"]


async def test_inactive_sep1_is_not_mounted(database_url, engine) -> None:
    app = create_app(make_settings(DATABASE_URL=database_url, ACTIVE_SEPS="sep-10"), engine=engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        assert (await client.get(TOML)).status_code == 404
        assert (await client.get("/openapi.json")).status_code == 200  # type: ignore[attr-defined]
