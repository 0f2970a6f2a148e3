"""SEP-38 endpoints: /info, /prices, /price, POST /quote and GET /quote/:id."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from killick.sep38.formulas import holds
from tests.helpers import bearer, make_settings
from tests.sep38_support import ACTIVE, BRL, PIX, WIRE, QuoteWallet, add_market, count_quotes


@pytest.fixture
def settings(database_url):
    return make_settings(DATABASE_URL=database_url, ACTIVE_SEPS=ACTIVE)


@pytest.fixture
async def market(client, sessions, cipher):
    return await add_market(sessions, cipher)


@pytest.fixture
def wallet(client) -> QuoteWallet:
    return QuoteWallet(client)


async def test_info_lists_the_traded_assets_without_auth(client, market) -> None:
    response = await client.get("/sep38/info")
    assert response.status_code == 200
    assert response.json() == {
        "assets": [
            {
                "asset": BRL,
                "country_codes": ["BR"],
                "sell_delivery_methods": [PIX, WIRE],
                "buy_delivery_methods": [PIX, WIRE],
            },
            {"asset": market.usdc_id},
        ]
    }
    assert response.headers["access-control-allow-origin"] == "*"
    authed = await client.get("/sep38/info", headers=bearer())
    assert authed.json() == response.json()


async def test_a_bad_token_is_403_even_where_auth_is_optional(client, market) -> None:
    for path in ("/info", f"/prices?sell_asset={BRL}"):
        response = await client.get("/sep38" + path, headers={"Authorization": "Bearer nope"})
        assert response.status_code == 403
        assert set(response.json()) == {"error"}


async def test_prices_for_a_sell_asset_and_for_a_buy_asset(wallet, market) -> None:
    response = await wallet.get("/prices", sell_asset=BRL)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "buy_assets": [{"asset": market.usdc_id, "price": "5.00", "decimals": 2}]
    }
    response = await wallet.get("/prices", buy_asset=market.usdc_id, buy_amount="100")
    assert response.status_code == 200, response.text
    [entry] = response.json()["sell_assets"]
    assert entry["asset"] == BRL and entry["decimals"] == 2
    assert Decimal(entry["price"]) > 5  # includes the fees for that amount


async def test_price_holds_the_formulas_to_the_decimals(wallet, market) -> None:
    response = await wallet.get(
        "/price", sell_asset=BRL, buy_asset=market.usdc_id, sell_amount="500", context="sep6"
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["sell_amount"] == "500.00"
    assert body["fee"] == {
        "total": "7.00",
        "asset": BRL,
        "details": [{"name": "Service fee", "amount": "7.00"}],
    }
    assert body["buy_amount"] == "98.60"  # (500 - 7) / 5
    sell, buy = Decimal(body["sell_amount"]), Decimal(body["buy_amount"])
    assert holds(sell, Decimal(body["total_price"]), buy, 2, 2)
    assert holds(sell - Decimal(body["fee"]["total"]), Decimal(body["price"]), buy, 2, 2)


async def test_post_quote_is_201_and_readable_by_its_owner_only(
    wallet, client, market, sessions
) -> None:
    response = await wallet.quote(
        sell_asset=BRL, buy_asset=market.usdc_id, sell_amount="100", sell_delivery_method="PIX"
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["sell_delivery_method"] == "PIX" and "buy_delivery_method" not in body
    assert set(body) >= {
        "id",
        "expires_at",
        "total_price",
        "price",
        "sell_asset",
        "sell_amount",
        "buy_asset",
        "buy_amount",
        "fee",
    }
    expires = datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
    assert expires > datetime.now(UTC) + timedelta(seconds=250)
    again = await wallet.get(f"/quote/{body['id']}")
    assert again.status_code == 200 and again.json() == body
    other = await QuoteWallet(client).get(f"/quote/{body['id']}")
    assert other.status_code == 404
    assert await count_quotes(sessions) == 1


async def test_stellar_toml_names_the_quote_server(client, market) -> None:
    toml = (await client.get("/.well-known/stellar.toml")).text
    assert 'ANCHOR_QUOTE_SERVER = "http://testserver/sep38"' in toml
