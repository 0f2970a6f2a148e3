"""SEP-6 /deposit-exchange and /withdraw-exchange with SEP-38 quotes and market prices."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import update
from stellar_sdk import Keypair

from killick.expiry import expire_overdue
from killick.integrations import DepositIntegration
from killick.models import Quote
from killick.offchain_assets import add_pair, create_offchain_asset
from tests.helpers import make_settings
from tests.sep6_support import SUCCESS, Wallet, add_asset, count_rows, load, use_hooks
from tests.sep38_support import ACTIVE, BRL, QuoteWallet, add_market


@pytest.fixture
def settings(database_url):
    return make_settings(DATABASE_URL=database_url, ACTIVE_SEPS=ACTIVE)


@pytest.fixture
async def market(client, sessions, cipher):
    setup = await add_market(sessions, cipher)
    use_hooks(deposit=SUCCESS, withdraw={})
    return setup


@pytest.fixture
def wallet(client) -> Wallet:
    return Wallet(client)


async def quote_for(wallet: Wallet, **body) -> dict:
    response = await QuoteWallet(wallet.client, wallet.headers).quote(**body)
    assert response.status_code == 201, response.text
    return response.json()


async def brl_quote(wallet: Wallet, market, amount: str = "100", method: str = "PIX") -> dict:
    return await quote_for(
        wallet,
        sell_asset=BRL,
        buy_asset=market.usdc_id,
        sell_amount=amount,
        sell_delivery_method=method,
    )


def deposit_params(quote: dict | None = None, **overrides: str) -> dict[str, str]:
    params = {
        "destination_asset": "USDC",
        "source_asset": BRL,
        "amount": "100",
        "funding_method": "PIX",
    }
    if quote is not None:
        params["quote_id"] = quote["id"]
    params.update(overrides)
    return params


async def test_info_has_exchange_blocks_with_the_delivery_methods(client, market) -> None:
    body = (await client.get("/sep6/info")).json()
    assert body["deposit-exchange"] == {
        "USDC": {
            "enabled": True,
            "authentication_required": True,
            "funding_methods": ["PIX", "WIRE"],
            "fields": {
                "type": {
                    "description": "how the funds are moved (the older name of funding_method)",
                    "choices": ["PIX", "WIRE"],
                }
            },
        }
    }
    assert body["withdraw-exchange"]["USDC"]["funding_methods"] == ["PIX", "WIRE"]
    assert set(body["withdraw-exchange"]["USDC"]["types"]) == {"PIX", "WIRE"}
    assert "min_amount" not in body["deposit-exchange"]["USDC"]


async def test_no_exchange_blocks_without_sep38(sessions, cipher, engine, database_url) -> None:
    import httpx

    from killick.app import create_app

    await add_market(sessions, cipher)
    use_hooks()
    app = create_app(make_settings(DATABASE_URL=database_url), engine=engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        body = (await client.get("/sep6/info")).json()
        assert "deposit-exchange" not in body and "withdraw-exchange" not in body
        response = await Wallet(client).get("/deposit-exchange", **deposit_params())
        assert response.status_code == 400
        assert response.json()["error"].startswith("destination_asset:")


async def test_deposit_exchange_at_a_quote_carries_its_terms(wallet, market, sessions) -> None:
    quote = await brl_quote(wallet, market)
    response = await wallet.get("/deposit-exchange", **deposit_params(quote))
    assert response.status_code == 200, response.text
    assert response.json()["how"] == SUCCESS["how"]
    txn = await load(sessions, response.json()["id"])
    assert txn.kind == "deposit-exchange"
    assert txn.status == "pending_user_transfer_start"
    assert txn.quote_id == quote["id"]
    assert txn.user_action_required_by.isoformat().replace("+00:00", "Z") == quote["expires_at"]
    async with sessions() as session:
        stored = await session.get(Quote, quote["id"])
        assert stored.transaction_id == txn.id
    found = (await wallet.get("/transaction", id=txn.id)).json()["transaction"]
    assert found["kind"] == "deposit-exchange"
    assert found["quote_id"] == quote["id"]
    assert (found["amount_in"], found["amount_in_asset"]) == (quote["sell_amount"], BRL)
    assert (found["amount_out"], found["amount_out_asset"]) == (
        quote["buy_amount"],
        market.usdc_id,
    )
    assert found["amount_fee"] == quote["fee"]["total"]
    assert found["amount_fee_asset"] == BRL
    assert found["fee_details"] == quote["fee"]
    kinds = (await wallet.get("/transactions", asset_code="USDC", kind="deposit-exchange")).json()
    assert [t["id"] for t in kinds["transactions"]] == [txn.id]


async def test_the_hook_gets_the_exchange_parameters(wallet, market) -> None:
    deposit, _ = use_hooks(deposit=SUCCESS, withdraw={})
    quote = await brl_quote(wallet, market)
    response = await wallet.get("/deposit-exchange", **deposit_params(quote))
    assert response.status_code == 200, response.text
    params = deposit.recorder.calls[0]["params"]
    assert params["source_asset"] == BRL and params["destination_asset"] == "USDC"
    assert params["sell_asset"] == BRL and params["buy_asset"] == market.usdc_id
    assert params["quote_id"] == quote["id"] and params["amount"] == Decimal("100")
    txn = deposit.recorder.calls[0]["transaction"]
    assert txn.amount_out == Decimal(quote["buy_amount"])  # the terms, before the hook runs


async def test_withdraw_exchange_at_a_quote(wallet, market, sessions) -> None:
    quote = await quote_for(
        wallet,
        sell_asset=market.usdc_id,
        buy_asset=BRL,
        sell_amount="50",
        buy_delivery_method="WIRE",
    )
    response = await wallet.get(
        "/withdraw-exchange",
        source_asset="USDC",
        destination_asset=BRL,
        amount="50",
        funding_method="WIRE",
        quote_id=quote["id"],
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["account_id"] == market.usdc.distribution_account
    assert body["memo_type"] == "id" and body["memo"]
    txn = await load(sessions, body["id"])
    assert txn.kind == "withdrawal-exchange"
    assert (txn.amount_in, txn.amount_in_asset) == (Decimal("50"), market.usdc_id)
    assert (txn.amount_out, txn.amount_out_asset) == (Decimal(quote["buy_amount"]), BRL)
    assert txn.amount_fee == Decimal(quote["fee"]["total"])
    assert txn.fee_details == quote["fee"]


async def test_post_forms_behave_like_get(wallet, market) -> None:
    quote = await brl_quote(wallet, market)
    response = await wallet.post_json("/deposit-exchange", deposit_params(quote))
    assert response.status_code == 200, response.text
    quote = await quote_for(
        wallet, sell_asset=market.usdc_id, buy_asset=BRL, sell_amount="5", buy_delivery_method="PIX"
    )
    response = await wallet.post_form(
        "/withdraw-exchange",
        {
            "source_asset": "USDC",
            "destination_asset": BRL,
            "amount": "5",
            "funding_method": "PIX",
            "quote_id": quote["id"],
        },
    )
    assert response.status_code == 200, response.text


async def test_without_a_quote_the_market_price_is_the_estimate(wallet, market, sessions) -> None:
    response = await wallet.get("/deposit-exchange", **deposit_params(amount="500"))
    assert response.status_code == 200, response.text
    txn = await load(sessions, response.json()["id"])
    assert txn.quote_id is None
    assert (txn.amount_in, txn.amount_out, txn.amount_fee) == (
        Decimal("500"),
        Decimal("98.6"),  # (500 - 7) / 5
        Decimal("7"),
    )
    assert txn.amount_out_asset == market.usdc_id
    assert txn.user_action_required_by is not None  # SEP-6's deadline, no quote to follow


async def test_amounts_in_the_off_chain_asset_keep_their_digits(client, sessions, cipher) -> None:
    setup = await add_market(sessions, cipher, significant_decimals=0)
    use_hooks()
    wallet = Wallet(client)
    quote = await brl_quote(wallet, setup, amount="100.55")
    response = await wallet.get("/deposit-exchange", **deposit_params(quote, amount="100.55"))
    assert response.status_code == 200, response.text
    found = (await wallet.get("/transaction", id=response.json()["id"])).json()["transaction"]
    assert found["amount_in"] == "100.55"  # not rounded to USDC's 0 decimals


CONFLICTS = [
    ("source_asset", {"source_asset": "iso4217:USD"}),
    ("amount", {"amount": "100.01"}),
    ("amount", {"amount": "99"}),
    ("funding_method", {"funding_method": "WIRE"}),
]


@pytest.mark.parametrize(("name", "overrides"), CONFLICTS)
async def test_a_request_contradicting_its_quote_is_400(
    wallet, market, sessions, name, overrides
) -> None:
    async with sessions() as session:
        await create_offchain_asset(session, "iso4217:USD", decimals=2)
        await add_pair(session, "iso4217:USD", market.usdc_id)
        await session.commit()
    quote = await brl_quote(wallet, market)
    before = await count_rows(sessions)
    response = await wallet.get("/deposit-exchange", **deposit_params(quote, **overrides))
    assert response.status_code == 400, response.text
    assert response.json()["error"].startswith(f"{name}:")
    assert await count_rows(sessions) == before


async def test_a_quote_for_another_stellar_asset_is_400(wallet, market, sessions, cipher) -> None:
    eurc = await add_asset(sessions, cipher, "EURC", sep38_enabled=True)
    eurc_id = f"stellar:EURC:{eurc.issuer}"
    async with sessions() as session:
        await add_pair(session, BRL, eurc_id)
        await session.commit()
    market.quotes.rates[(BRL, eurc_id)] = Decimal("6")
    quote = await quote_for(
        wallet, sell_asset=BRL, buy_asset=eurc_id, sell_amount="100", sell_delivery_method="PIX"
    )
    response = await wallet.get("/deposit-exchange", **deposit_params(quote))
    assert response.status_code == 400
    assert response.json()["error"].startswith("destination_asset:")


async def test_a_withdrawal_quote_cannot_be_used_for_a_deposit(wallet, market) -> None:
    quote = await quote_for(
        wallet,
        sell_asset=market.usdc_id,
        buy_asset=BRL,
        sell_amount="100",
        buy_delivery_method="PIX",
    )
    response = await wallet.get("/deposit-exchange", **deposit_params(quote))
    assert response.status_code == 400


async def test_a_sep31_quote_is_not_for_sep6(wallet, market) -> None:
    quote = await quote_for(
        wallet,
        sell_asset=BRL,
        buy_asset=market.usdc_id,
        sell_amount="100",
        sell_delivery_method="PIX",
        context="sep31",
    )
    response = await wallet.get("/deposit-exchange", **deposit_params(quote))
    assert response.status_code == 400
    assert "sep31" in response.json()["error"]


async def test_an_expired_quote_is_400(wallet, market, sessions) -> None:
    quote = await brl_quote(wallet, market)
    async with sessions() as session:
        await session.execute(
            update(Quote).where(Quote.id == quote["id"]).values(expires_at=Quote.created_at)
        )
        await session.commit()
    response = await wallet.get("/deposit-exchange", **deposit_params(quote))
    assert response.status_code == 400
    assert response.json()["error"].startswith("quote_id:")
    assert "expired" in response.json()["error"]


async def test_a_quote_is_used_once(wallet, market, sessions) -> None:
    quote = await brl_quote(wallet, market)
    first = await wallet.get("/deposit-exchange", **deposit_params(quote))
    assert first.status_code == 200
    before = await count_rows(sessions)
    second = await wallet.get("/deposit-exchange", **deposit_params(quote))
    assert second.status_code == 400
    assert second.json()["error"].startswith("quote_id:")
    assert await count_rows(sessions) == before


async def test_a_quote_used_meanwhile_loses_the_race(wallet, market, sessions) -> None:
    """The checks passed, then another request used the quote before this one committed."""
    quote = await brl_quote(wallet, market)

    class UsedMeanwhile(DepositIntegration):
        async def process_sep6_request(self, token, request, params, transaction, *a, **k):
            async with sessions() as session:
                await session.execute(
                    update(Quote).where(Quote.id == quote["id"]).values(transaction_id="other")
                )
                await session.commit()
            return SUCCESS

    use_hooks(deposit=UsedMeanwhile(), withdraw={})
    before = await count_rows(sessions)
    response = await wallet.get("/deposit-exchange", **deposit_params(quote))
    assert response.status_code == 400, response.text
    assert response.json()["error"].startswith("quote_id:")
    assert await count_rows(sessions) == before


@pytest.mark.parametrize("who", ["another account", "another memo", "muxed form"])
async def test_another_principals_quote_is_400(client, market, sessions, who) -> None:
    account = Keypair.random().public_key
    owner = Wallet(client, account, memo="7")
    quote = await brl_quote(owner, market)
    intruder = {
        "another account": Wallet(client),
        "another memo": Wallet(client, account, memo="8"),
        "muxed form": Wallet(client, account, muxed_id=7),
    }[who]
    response = await intruder.get("/deposit-exchange", **deposit_params(quote))
    assert response.status_code == 400
    assert response.json()["error"] == "quote_id: no such quote of the authenticated account"
    mine = await owner.get("/deposit-exchange", **deposit_params(quote))
    assert mine.status_code == 200, mine.text


async def test_muxed_owner_uses_its_quote(client, market) -> None:
    wallet = Wallet(client, muxed_id=2**63 + 1)
    quote = await brl_quote(wallet, market)
    response = await wallet.get("/deposit-exchange", **deposit_params(quote))
    assert response.status_code == 200, response.text


BAD_REQUESTS = [
    ("destination_asset", {"destination_asset": None}),
    ("source_asset", {"source_asset": None}),
    ("amount", {"amount": None}),
    ("amount", {"amount": "1.234"}),
    ("amount", {"amount": "-5"}),
    ("amount", {"amount": "abc"}),
    ("destination_asset", {"destination_asset": "NOPE"}),
    ("source_asset", {"source_asset": "iso4217:EUR"}),
    ("source_asset", {"source_asset": "stellar:USDC"}),
    ("funding_method", {"funding_method": "CASH"}),
    ("funding_method", {"funding_method": None}),
    ("quote_id", {"quote_id": "no-such-quote"}),
    ("quote_id", {"quote_id": "x" * 300}),
    ("account", {"account": "GNOTANACCOUNT"}),
]


@pytest.mark.parametrize(("name", "overrides"), BAD_REQUESTS)
async def test_bad_exchange_parameters_are_400(wallet, market, sessions, name, overrides) -> None:
    params = {k: v for k, v in {**deposit_params(), **overrides}.items() if v is not None}
    response = await wallet.get("/deposit-exchange", **params)
    assert response.status_code == 400, response.text
    assert response.json()["error"].startswith(f"{name}:"), response.json()
    assert await count_rows(sessions) == (0, 0)


async def test_withdraw_exchange_amount_follows_the_stellar_asset(wallet, market) -> None:
    response = await wallet.get(
        "/withdraw-exchange",
        source_asset="USDC",
        destination_asset=BRL,
        amount="1.234",
        funding_method="PIX",
    )
    assert response.status_code == 400
    assert response.json()["error"].startswith("amount:")


async def test_no_token_is_sep6s_403(client, market) -> None:
    for path in ("/sep6/deposit-exchange", "/sep6/withdraw-exchange"):
        response = await client.get(path, params=deposit_params())
        assert response.status_code == 403
        assert response.json() == {"type": "authentication_required"}


async def test_a_broken_price_hook_is_a_clean_500_without_a_row(wallet, market, sessions) -> None:
    market.quotes.get_price = lambda *a, **k: {"price": 1.5}  # type: ignore[method-assign]
    response = await wallet.get("/deposit-exchange", **deposit_params())
    assert response.status_code == 500
    assert response.json() == {"error": "the anchor could not give a price now; try again later"}
    assert await count_rows(sessions) == (0, 0)


async def test_a_price_for_another_amount_is_the_hooks_mistake(wallet, market, sessions) -> None:
    real = market.quotes.get_price

    def other_amount(token, request, params, *args, **kwargs):
        return real(token, request, {**params, "sell_amount": Decimal("200")})

    market.quotes.get_price = other_amount  # type: ignore[method-assign]
    response = await wallet.get("/deposit-exchange", **deposit_params())
    assert response.status_code == 500
    assert await count_rows(sessions) == (0, 0)


async def test_a_quoted_transaction_expires_with_its_quote(wallet, market, sessions) -> None:
    quote = await brl_quote(wallet, market)
    response = await wallet.get("/deposit-exchange", **deposit_params(quote))
    txn = await load(sessions, response.json()["id"])
    async with sessions() as session:
        stored = await session.get(Quote, quote["id"])
        expires = stored.expires_at
        assert await expire_overdue(session, expires - timedelta(seconds=1)) == []
        assert await expire_overdue(session, expires + timedelta(seconds=1)) == [txn.id]
        await session.commit()
    assert (await load(sessions, txn.id)).status == "expired"
    still = await QuoteWallet(wallet.client, wallet.headers).get(f"/quote/{quote['id']}")
    assert still.status_code == 200  # the quote outlives its transaction's expiry


async def test_kyc_first_then_resumed_keeps_the_quote_deadline(
    client, market, sessions, app
) -> None:
    from killick.sep6.kyc_resume import resume_after_kyc
    from tests.sep6_support import INFO_NEEDED

    deposit_hook, _ = use_hooks(deposit=INFO_NEEDED, withdraw={})
    wallet = Wallet(client)
    quote = await brl_quote(wallet, market)
    response = await wallet.get("/deposit-exchange", **deposit_params(quote))
    assert response.status_code == 200
    txn_id = response.json()["id"]
    assert (await load(sessions, txn_id)).status == "pending_customer_info_update"
    deposit_hook.answer = SUCCESS
    async with sessions() as session:
        assert await resume_after_kyc(
            session, wallet.account, settings=app.state.killick.settings
        ) == [txn_id]
        await session.commit()
    txn = await load(sessions, txn_id)
    assert txn.status == "pending_user_transfer_start"
    assert txn.amount_out == Decimal(quote["buy_amount"])
    assert txn.user_action_required_by.isoformat().replace("+00:00", "Z") == quote["expires_at"]
    params = deposit_hook.recorder.calls[-1]["params"]
    assert params["quote_id"] == quote["id"] and params["source_asset"] == BRL


async def test_the_hook_cannot_change_a_quotes_terms(wallet, market, sessions, caplog) -> None:
    def greedy(params, transaction):
        transaction.amount_out = Decimal("1")
        return SUCCESS

    use_hooks(deposit=greedy, withdraw={})
    quote = await brl_quote(wallet, market)
    response = await wallet.get("/deposit-exchange", **deposit_params(quote))
    txn = await load(sessions, response.json()["id"])
    assert txn.amount_out == Decimal(quote["buy_amount"])
    assert "the quote's terms stand" in caplog.text


async def test_the_hook_may_refine_a_market_estimate(wallet, market, sessions) -> None:
    def refine(params, transaction):
        transaction.amount_out = Decimal("98.5")
        return SUCCESS

    use_hooks(deposit=refine, withdraw={})
    response = await wallet.get("/deposit-exchange", **deposit_params(amount="500"))
    txn = await load(sessions, response.json()["id"])
    assert txn.amount_out == Decimal("98.5")
