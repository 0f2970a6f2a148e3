"""SEP-38 request rules (400 naming the parameter), authentication, and the checks on
every answer of the quote integration (a clean 500, never a spec-violating answer)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import update
from stellar_sdk import Keypair, MuxedAccount

from killick.models import Quote
from killick.sep38.answers import HOOK_FAILED
from killick.sep38.formulas import fit_price, holds
from tests.helpers import bearer, make_settings
from tests.sep38_support import ACTIVE, BRL, QuoteWallet, add_market, count_quotes


@pytest.fixture
def settings(database_url):
    return make_settings(DATABASE_URL=database_url, ACTIVE_SEPS=ACTIVE)


@pytest.fixture
async def market(client, sessions, cipher):
    return await add_market(sessions, cipher)


@pytest.fixture
def wallet(client) -> QuoteWallet:
    return QuoteWallet(client)


def usdc(market) -> str:
    return market.usdc_id


PRICES_BAD = [
    ("sell_asset", {}),
    ("sell_asset", {"sell_asset": BRL, "buy_asset": "x"}),
    ("sell_asset", {"sell_asset": "BRL"}),
    ("sell_asset", {"sell_asset": "iso4217:brl"}),
    ("sell_asset", {"sell_asset": "iso4217:EUR"}),
    ("sell_asset", {"sell_asset": "stellar:native"}),
    ("sell_asset", {"sell_asset": "stellar:USDC:GBAD"}),
    ("buy_amount", {"sell_asset": BRL, "buy_amount": "1"}),
    ("sell_amount", {"buy_asset": BRL, "sell_amount": "1"}),
    ("sell_amount", {"sell_asset": BRL, "sell_amount": "1.001"}),
    ("sell_amount", {"sell_asset": BRL, "sell_amount": "0"}),
    ("sell_amount", {"sell_asset": BRL, "sell_amount": "1e3"}),
    ("sell_delivery_method", {"sell_asset": BRL, "sell_delivery_method": "CASH"}),
    ("buy_delivery_method", {"sell_asset": BRL, "buy_delivery_method": "PIX"}),
    ("country_code", {"sell_asset": BRL, "country_code": "BRA"}),
    ("country_code", {"sell_asset": BRL, "country_code": "US"}),
]


@pytest.mark.parametrize(("name", "params"), PRICES_BAD)
async def test_prices_bad_parameters(wallet, market, name, params) -> None:
    response = await wallet.get("/prices", **params)
    assert response.status_code == 400, response.text
    assert response.json()["error"].startswith(f"{name}:")


async def test_prices_accept_a_subdivision_and_the_delivery_methods(wallet, market) -> None:
    response = await wallet.get(
        "/prices",
        sell_asset=BRL,
        sell_amount="10",
        sell_delivery_method="PIX",
        country_code="BR-SP",
    )
    assert response.status_code == 200, response.text
    response = await wallet.get("/prices", sell_asset=market.usdc_id, buy_delivery_method="WIRE")
    assert response.status_code == 200, response.text
    assert response.json()["buy_assets"][0]["asset"] == BRL


def price_bad(market) -> list[tuple[str, dict[str, str]]]:
    base = {"sell_asset": BRL, "buy_asset": market.usdc_id, "sell_amount": "10"}
    return [
        ("context", base),
        ("context", {**base, "context": "sep24"}),
        ("sell_amount", {**base, "context": "sep6", "buy_amount": "1"}),
        (
            "sell_amount",
            {k: v for k, v in base.items() if k != "sell_amount"} | {"context": "sep6"},
        ),
        ("buy_asset", {**base, "context": "sep6", "buy_asset": BRL}),
        ("sell_asset", {**base, "context": "sep6", "sell_asset": ""}),
        ("buy_delivery_method", {**base, "context": "sep6", "buy_delivery_method": "PIX"}),
        (
            "buy_amount",
            {
                "sell_asset": BRL,
                "buy_asset": market.usdc_id,
                "buy_amount": "1.001",
                "context": "sep6",
            },
        ),
    ]


async def test_price_bad_parameters(wallet, market) -> None:
    for name, params in price_bad(market):
        response = await wallet.get("/price", **params)
        assert response.status_code == 400, (name, response.text)
        assert response.json()["error"].startswith(f"{name}:"), (name, response.json())


async def test_price_for_a_buy_amount_and_sep31(wallet, market) -> None:
    response = await wallet.get(
        "/price", sell_asset=BRL, buy_asset=market.usdc_id, buy_amount="100", context="sep31"
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["buy_amount"] == "100.00"
    sell, fee = Decimal(body["sell_amount"]), Decimal(body["fee"]["total"])
    assert holds(sell, Decimal(body["total_price"]), Decimal("100"), 2, 2)
    assert holds(sell - fee, Decimal(body["price"]), Decimal("100"), 2, 2)


async def test_quote_needs_a_token(client, market) -> None:
    body = {"sell_asset": BRL, "buy_asset": market.usdc_id, "sell_amount": "1", "context": "sep6"}
    for headers in ({}, {"Authorization": "Bearer junk"}, bearer(lifetime_seconds=-10)):
        response = await client.post("/sep38/quote", json=body, headers=headers)
        assert response.status_code == 403
        assert set(response.json()) == {"error"}
    response = await client.get("/sep38/quote/anything")
    assert response.status_code == 403 and set(response.json()) == {"error"}


def quote_bad(market) -> list[tuple[str, dict[str, object]]]:
    base = {"sell_asset": BRL, "buy_asset": market.usdc_id, "sell_amount": "10"}
    pix = {**base, "sell_delivery_method": "PIX"}
    return [
        ("sell_delivery_method", base),  # BRL lists two methods
        ("buy_delivery_method", {**pix, "buy_delivery_method": "PIX"}),
        ("context", {**pix, "context": "sep12"}),
        ("expire_after", {**pix, "expire_after": "tomorrow"}),
        ("expire_after", {**pix, "expire_after": "2999-01-01T00:00:00Z"}),
        ("sell_asset", {**pix, "sell_asset": ["x"]}),
        ("sell_amount", {**pix, "buy_amount": "5"}),
    ]


async def test_quote_bad_parameters_write_nothing(wallet, market, sessions) -> None:
    for name, body in quote_bad(market):
        response = await wallet.quote(**body)
        assert response.status_code == 400, (name, response.text)
        assert response.json()["error"].startswith(f"{name}:"), (name, response.json())
    for raw in (b"not json", b"[1]"):
        response = await wallet.client.post(
            "/sep38/quote",
            content=raw,
            headers={**wallet.headers, "Content-Type": "application/json"},
        )
        assert response.status_code == 400
        assert response.json()["error"].startswith("request body:")
    assert await count_quotes(sessions) == 0


async def test_quote_takes_json_numbers_and_a_buy_amount(wallet, market) -> None:
    response = await wallet.quote(
        sell_asset=market.usdc_id, buy_asset=BRL, buy_amount=250.5, buy_delivery_method="PIX"
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["buy_amount"] == "250.50" and body["buy_delivery_method"] == "PIX"
    assert body["fee"]["asset"] == market.usdc_id
    sell = Decimal(body["sell_amount"])
    assert holds(sell, Decimal(body["total_price"]), Decimal("250.50"), 2, 2)


async def test_one_delivery_method_need_not_be_named(client, sessions, cipher) -> None:
    from tests.sep38_support import PIX

    setup = await add_market(sessions, cipher, brl_methods=(PIX,))
    response = await QuoteWallet(client).quote(
        sell_asset=BRL, buy_asset=setup.usdc_id, sell_amount="10"
    )
    assert response.status_code == 201, response.text
    assert "sell_delivery_method" not in response.json()


async def test_expire_after_is_honoured_or_refused(wallet, market, sessions) -> None:
    wanted = (datetime.now(UTC) + timedelta(minutes=30)).replace(microsecond=0)
    response = await wallet.quote(
        sell_asset=BRL,
        buy_asset=market.usdc_id,
        sell_amount="10",
        sell_delivery_method="PIX",
        expire_after=wanted.isoformat(),
    )
    assert response.status_code == 201, response.text
    assert response.json()["expires_at"] == wanted.isoformat().replace("+00:00", "Z")
    too_far = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    response = await wallet.quote(
        sell_asset=BRL,
        buy_asset=market.usdc_id,
        sell_amount="10",
        sell_delivery_method="PIX",
        expire_after=too_far,
    )
    assert response.status_code == 400
    assert response.json()["error"].startswith("expire_after:")
    assert await count_quotes(sessions) == 1


async def test_a_refusing_hook_is_400(wallet, market, sessions) -> None:
    response = await wallet.quote(
        sell_asset=BRL, buy_asset=market.usdc_id, sell_amount="1", sell_delivery_method="PIX"
    )
    assert response.status_code == 400  # 1 BRL does not cover the 2.01 BRL fee
    assert "fee" in response.json()["error"]
    assert await count_quotes(sessions) == 0


async def test_quotes_are_readable_after_expiry_by_their_owner_only(client, market, sessions):
    account = Keypair.random().public_key
    owner = QuoteWallet(client, bearer(account, memo="1"))
    body = (
        await owner.quote(
            sell_asset=BRL, buy_asset=market.usdc_id, sell_amount="10", sell_delivery_method="PIX"
        )
    ).json()
    async with sessions() as session:
        await session.execute(
            update(Quote)
            .where(Quote.id == body["id"])
            .values(expires_at=datetime.now(UTC) - timedelta(days=1))
        )
        await session.commit()
    response = await owner.get(f"/quote/{body['id']}")
    assert response.status_code == 200
    assert response.json()["expires_at"] < body["expires_at"]
    muxed = MuxedAccount(account, 1).account_muxed
    for headers in (bearer(account), bearer(account, memo="2"), bearer(muxed_account=muxed)):
        response = await QuoteWallet(client, headers).get(f"/quote/{body['id']}")
        assert response.status_code == 404
        assert response.json() == {"error": "quote not found"}
    assert (await owner.get("/quote/" + "x" * 100)).status_code == 400
    assert (await owner.get("/quote/no-such-id")).status_code == 404


async def test_muxed_principal_owns_its_quote(client, market) -> None:
    muxed = MuxedAccount(Keypair.random().public_key, 2**64 - 1).account_muxed
    wallet = QuoteWallet(client, bearer(muxed_account=muxed))
    body = (
        await wallet.quote(
            sell_asset=BRL, buy_asset=market.usdc_id, sell_amount="10", sell_delivery_method="PIX"
        )
    ).json()
    assert (await wallet.get(f"/quote/{body['id']}")).status_code == 200


# -- the hook's mistakes -----------------------------------------------------------------------

GOOD = {
    "sell_amount": "500",
    "buy_amount": "98.60",
    "price": "5.00",
    "total_price": "5.0710",
    "fee": {"total": "7", "asset": BRL, "details": [{"name": "Service fee", "amount": "7"}]},
}


def wrong(**changes) -> dict:
    answer = {**GOOD, **changes}
    return {k: v for k, v in answer.items() if v is not None}


BAD_PRICES = [
    wrong(total_price="5.00"),  # sell != total_price x buy
    wrong(price="4.00"),  # sell - fee != price x buy
    wrong(buy_amount="98.601"),  # more than USDC's 2 decimals
    wrong(sell_amount=500.0),  # a float
    wrong(sell_amount="-500"),
    wrong(total_price="0"),
    wrong(total_price="NaN"),
    wrong(price=None),
    wrong(extra="x"),
    wrong(fee={"total": "7", "asset": "iso4217:USD"}),
    wrong(fee={"total": "7", "asset": BRL, "details": [{"name": "a", "amount": "6"}]}),
    wrong(fee={"total": "7.001", "asset": BRL}),
    wrong(fee="7"),
    ["not", "a", "dict"],
]


@pytest.mark.parametrize("answer", BAD_PRICES)
async def test_bad_price_answers_are_clean_500s(wallet, market, answer, caplog) -> None:
    market.quotes.get_price = lambda *a, **k: answer  # type: ignore[method-assign]
    response = await wallet.get(
        "/price", sell_asset=BRL, buy_asset=market.usdc_id, sell_amount="500", context="sep6"
    )
    assert response.status_code == 500
    assert response.json() == {"error": HOOK_FAILED}
    assert any("quote.get_price" in r.getMessage() for r in caplog.records)


async def test_a_good_answer_with_a_fee_in_the_buy_asset_passes(wallet, market) -> None:
    answer = {  # the spec's example: 542 BRL buy 100 USDC, 8.40 USDC fee
        "sell_amount": "542",
        "buy_amount": "100",
        "price": "5.00",
        "total_price": "5.42",
        "fee": {"total": "8.40", "asset": market.usdc_id},
    }
    market.quotes.get_price = lambda *a, **k: answer  # type: ignore[method-assign]
    response = await wallet.get(
        "/price", sell_asset=BRL, buy_asset=market.usdc_id, buy_amount="100", context="sep31"
    )
    assert response.status_code == 200, response.text
    assert response.json()["sell_amount"] == "542.00"
    assert response.json()["fee"] == {"total": "8.40", "asset": market.usdc_id}


@pytest.mark.parametrize(
    "answer",
    [
        {},
        [{"asset": "iso4217:EUR", "price": "1"}],
        [{"price": "1"}],
        [{"asset": BRL, "price": "-1"}],
        [{"asset": BRL, "price": "1"}, {"asset": BRL, "price": "1"}],
        [{"asset": BRL, "price": "1", "decimals": 7}],
    ],
)
async def test_bad_prices_answers_are_clean_500s(wallet, market, answer) -> None:
    market.quotes.get_prices = lambda *a, **k: answer  # type: ignore[method-assign]
    response = await wallet.get("/prices", sell_asset=market.usdc_id)
    assert response.status_code == 500
    assert response.json() == {"error": HOOK_FAILED}


def spoil(field: str, value: object):
    def spoiler(quote) -> None:
        setattr(quote, field, value)

    return spoiler


BAD_QUOTES = [
    spoil("expires_at", datetime.now(UTC) - timedelta(seconds=1)),
    spoil("expires_at", datetime(2999, 1, 1)),  # naive
    spoil("expires_at", "2999-01-01T00:00:00Z"),
    spoil("total_price", "9.99"),
    spoil("buy_amount", Decimal("1.001")),
    spoil("sell_asset", "iso4217:USD"),
    spoil("principal", "someone else"),
    spoil("fee", None),
]


@pytest.mark.parametrize("spoiler", BAD_QUOTES)
async def test_bad_quotes_are_clean_500s_without_a_row(wallet, market, sessions, spoiler) -> None:
    real = market.quotes.post_quote

    def post_quote(token, request, quote, *args, **kwargs):
        real(token, request, quote)
        spoiler(quote)
        return quote

    market.quotes.post_quote = post_quote  # type: ignore[method-assign]
    response = await wallet.quote(
        sell_asset=BRL, buy_asset=market.usdc_id, sell_amount="100", sell_delivery_method="PIX"
    )
    assert response.status_code == 500
    assert response.json() == {"error": HOOK_FAILED}
    assert await count_quotes(sessions) == 0


async def test_a_hook_that_raises_or_returns_another_object_is_a_clean_500(
    wallet, market, sessions
) -> None:
    def boom(*args, **kwargs):
        raise RuntimeError("bank down")

    for hook in (boom, lambda *a, **k: {"not": "the quote"}):
        market.quotes.post_quote = hook  # type: ignore[method-assign]
        response = await wallet.quote(
            sell_asset=BRL, buy_asset=market.usdc_id, sell_amount="100", sell_delivery_method="PIX"
        )
        assert response.status_code == 500
        assert response.json() == {"error": HOOK_FAILED}
    assert await count_quotes(sessions) == 0


# -- the formulas ------------------------------------------------------------------------------


def test_the_spec_examples_hold() -> None:
    d = Decimal
    assert holds(d("542"), d("5.42"), d("100"), 2, 2)
    assert holds(d("542") - d("42"), d("5.00"), d("100"), 2, 2)  # fee in sell asset
    assert holds(d("542"), d("5.00"), d("100") + d("8.40"), 2, 2)  # fee in buy asset
    assert holds(d("100"), d("0.20"), d("500"), 2, 2)
    assert holds(d("100"), d("0.18"), d("500") + d("55.5556"), 2, 4)
    assert not holds(d("542"), d("5.41"), d("100"), 2, 2)


def test_fit_price_is_the_shortest_price_that_holds() -> None:
    d = Decimal
    assert fit_price(d("542"), d("100"), 2, 2) == d("5.42")
    price = fit_price(d("1000000"), d("182611.71"), 2, 2)
    assert holds(d("1000000"), price, d("182611.71"), 2, 2)
    assert not holds(d("1000000"), price.quantize(d("0.01")), d("182611.71"), 2, 2)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("sell_amount", " "),
        ("sell_amount", "1" * 400),
        ("sell_asset", "iso4217:BRL\x00"),
        ("sell_asset", "é" * 300),
        ("expire_after", "0001-01-01T00:00:00+14:00"),
        ("expire_after", "9999-99-99"),
        ("country_code", "B\nR"),
    ],
)
async def test_odd_values_are_400s_never_500s(wallet, market, name, value) -> None:
    body = {
        "sell_asset": BRL,
        "buy_asset": market.usdc_id,
        "sell_amount": "10",
        "sell_delivery_method": "PIX",
        name: value,
    }
    response = await wallet.quote(**body)
    assert response.status_code == 400, response.text
    assert response.json()["error"].startswith(f"{name}:")


async def test_json_numbers_with_huge_exponents_are_400s(wallet, market) -> None:
    raw = (
        f'{{"sell_asset": "{BRL}", "buy_asset": "{market.usdc_id}", "sell_amount": 1e-999999999, '
        '"sell_delivery_method": "PIX", "context": "sep6"}'
    )
    response = await wallet.client.post(
        "/sep38/quote",
        content=raw.encode(),
        headers={**wallet.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"].startswith("sell_amount:")


async def test_the_openapi_document_describes_sep38_and_the_exchanges(client, market) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert {"/sep38/info", "/sep38/prices", "/sep38/price", "/sep38/quote"} <= set(paths)
    assert "/sep38/quote/{quote_id}" in paths
    params = {p["name"]: p for p in paths["/sep6/deposit-exchange"]["get"]["parameters"]}
    assert params["source_asset"]["required"] and params["amount"]["required"]
    assert "asset_code" not in params
    assert {p["name"] for p in paths["/sep38/price"]["get"]["parameters"]} >= {"context"}
