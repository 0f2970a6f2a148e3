"""SEP-6 deposits: the hook's answer becomes the spec's response and a stored transaction."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import select

from killick.app import create_app
from killick.models import Event
from killick.sep10 import SEP10Token
from tests.helpers import make_settings
from tests.sep6_support import (
    DENIED,
    INFO_NEEDED,
    PENDING,
    SUCCESS,
    StubDeposit,
    Wallet,
    add_asset,
    count_rows,
    load,
    use_hooks,
)

INSTRUCTIONS = {
    "organization.bank_number": {"value": "121122676", "description": "routing number"},
    "organization.bank_account_number": {"value": "13719713158835300", "description": "account"},
}


@pytest.fixture
async def wallet(client, sessions, cipher) -> Wallet:
    await add_asset(
        sessions,
        cipher,
        deposit_fee_fixed="1.5",
        deposit_fee_percent="1",
        deposit_min_amount="0.1",
        deposit_max_amount="1000",
    )
    return Wallet(client)


async def test_success_answers_the_spec_shape_and_stores_it(wallet: Wallet, sessions) -> None:
    answer = {**SUCCESS, "instructions": INSTRUCTIONS, "eta": 3600}
    deposit, _ = use_hooks(deposit=answer)
    before = datetime.now(UTC)
    response = await wallet.get(
        "/deposit",
        asset_code="USD",
        amount="100",
        memo_type="id",
        memo="42",
        on_change_callback="http://wallet.example/cb",
        claimable_balance_supported="true",
        country_code="usa",
        customer_id="cust-1",
        funding_method="SEPA",
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body == {
        "id": body["id"],
        "how": SUCCESS["how"],
        "instructions": INSTRUCTIONS,
        "eta": 3600,
        "min_amount": 0.1,
        "max_amount": 1000,
        "fee_fixed": 1.5,
        "fee_percent": 1,
        "extra_info": SUCCESS["extra_info"],
    }
    txn = await load(sessions, body["id"])
    assert txn.status == "pending_user_transfer_start"
    assert txn.principal == wallet.account
    assert txn.to_address == wallet.account  # account defaults to the token's (P-08)
    assert txn.amount_in == Decimal("100")
    assert txn.amount_fee == Decimal("2.50")  # 1.5 + 1% of 100, by the default fee hook
    assert txn.amount_out == Decimal("97.50")
    assert (txn.deposit_memo, txn.deposit_memo_type) == ("42", "id")
    assert txn.claimable_balance_supported is True
    assert txn.country_code == "USA"
    assert txn.funding_method == "SEPA"
    assert txn.on_change_callback == "http://wallet.example/cb"
    assert txn.instructions == INSTRUCTIONS
    assert before + timedelta(days=6) < txn.user_action_required_by  # type: ignore[operator]
    # The hook saw the validated request and the transaction before it was stored.
    [call] = deposit.recorder.calls
    assert call["params"]["amount"] == Decimal("100")
    assert call["params"]["asset"] is call["transaction"].asset  # its own copy, not the cache
    assert call["transaction"].id == body["id"]
    assert isinstance(call["token"], SEP10Token)
    # One event, carrying the JSON the wallet will read, addressed to its callback.
    async with sessions() as session:
        [event] = (await session.scalars(select(Event))).all()
    assert event.to_status == "pending_user_transfer_start"
    assert event.callback_url == "http://wallet.example/cb"
    assert event.payload["transaction"]["instructions"] == INSTRUCTIONS
    # /transaction shows the instructions now that funds are awaited.
    shown = (await wallet.get("/transaction", id=body["id"])).json()["transaction"]
    assert shown["instructions"] == INSTRUCTIONS
    assert shown["deposit_memo"] == "42"
    assert shown["amount_fee"] == "2.50"


async def test_get_json_and_form_post_behave_alike(wallet: Wallet, sessions) -> None:
    use_hooks()
    params = {"asset_code": "USD", "amount": "10.25", "memo_type": "text", "memo": "ref 1"}
    answers = [
        await wallet.get("/deposit", **params),
        await wallet.post_json("/deposit", params),
        await wallet.post_form("/deposit", params),
    ]
    bodies = [a.json() for a in answers]
    assert all(a.status_code == 200 for a in answers)
    assert len({b.pop("id") for b in bodies}) == 3
    assert bodies[0] == bodies[1] == bodies[2]
    for answer in answers:
        txn = await load(sessions, answer.json()["id"])
        assert (txn.amount_in, txn.deposit_memo) == (Decimal("10.25"), "ref 1")


async def test_json_numbers_and_booleans_are_read_exactly(wallet: Wallet, sessions) -> None:
    use_hooks()
    body = {"asset_code": "USD", "amount": 10.25, "claimable_balance_supported": True}
    response = await wallet.post_json("/deposit", body)
    assert response.status_code == 200, response.text
    txn = await load(sessions, response.json()["id"])
    assert txn.amount_in == Decimal("10.25")
    assert txn.claimable_balance_supported is True


@pytest.mark.parametrize("answer", [INFO_NEEDED, PENDING])
async def test_customer_info_the_4x_way_keeps_a_transaction(wallet: Wallet, sessions, answer):
    use_hooks(deposit=answer)
    response = await wallet.get("/deposit", asset_code="USD", amount="50")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) >= {"id"}
    assert "how" not in body and "instructions" not in body
    txn = await load(sessions, body["id"])
    assert txn.status == "pending_customer_info_update"
    assert txn.user_action_required_by is not None
    shown = (await wallet.get("/transaction", id=body["id"])).json()["transaction"]
    assert shown["status"] == "pending_customer_info_update"
    assert "SEP-12" in shown["message"]


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (INFO_NEEDED, INFO_NEEDED),
        (PENDING, PENDING),
        (
            {**DENIED, "more_info_url": "https://anchor.example/kyc?a=1", "eta": 60},
            {**DENIED, "more_info_url": "https://anchor.example/kyc?a=1&lang=en", "eta": 60},
        ),
    ],
)
async def test_legacy_flow_answers_403_and_keeps_nothing(
    database_url, engine, sessions, cipher, answer, expected
) -> None:
    await add_asset(sessions, cipher)
    use_hooks(deposit=answer)
    settings = make_settings(DATABASE_URL=database_url, SEP6_CUSTOMER_INFO_FLOW="legacy_403")
    transport = httpx.ASGITransport(app=create_app(settings, engine=engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await Wallet(client).get("/deposit", asset_code="USD")
    assert response.status_code == 403
    assert response.json() == expected
    assert await count_rows(sessions) == (0, 0)


async def test_denied_customer_gets_403_in_the_4x_flow_too(wallet: Wallet, sessions) -> None:
    use_hooks(deposit=DENIED)
    response = await wallet.get("/deposit", asset_code="USD")
    assert response.status_code == 403
    assert response.json() == {"type": "customer_info_status", "status": "denied"}
    assert await count_rows(sessions) == (0, 0)


@pytest.mark.parametrize(
    "answer",
    [
        None,
        "ok",
        {"how": 12},
        {"type": "non_interactive_customer_info_needed"},
        {"type": "non_interactive_customer_info_needed", "fields": "first_name"},
        {"type": "customer_info_status", "status": "maybe"},
        {"type": "interactive_customer_info_needed", "url": "https://x"},
        {"instructions": {"organization.bank_number": "121122676"}},
        {"extra_info": {"when": datetime.now(UTC)}},
        {"eta": -1},
        {"hw": "typo"},
    ],
)
async def test_wrong_hook_answer_is_logged_and_leaks_nothing(
    wallet: Wallet, sessions, caplog, answer
) -> None:
    use_hooks(deposit=StubDeposit(lambda params, txn: answer))
    with caplog.at_level(logging.ERROR):
        response = await wallet.get("/deposit", asset_code="USD")
    assert response.status_code == 500
    assert response.json() == {
        "error": "the anchor could not process this request; try again later"
    }
    assert await count_rows(sessions) == (0, 0)
    assert any("answered wrongly for transaction" in r.getMessage() for r in caplog.records)


async def test_hook_errors(wallet: Wallet, sessions, caplog) -> None:
    def refuse(params, txn):  # type: ignore[no-untyped-def]
        raise ValueError("deposits above 500 need an appointment")

    use_hooks(deposit=StubDeposit(refuse))
    refused = await wallet.get("/deposit", asset_code="USD")
    assert refused.status_code == 400
    assert refused.json() == {"error": "deposits above 500 need an appointment"}

    def crash(params, txn):  # type: ignore[no-untyped-def]
        raise KeyError("database password is hunter2")

    use_hooks(deposit=StubDeposit(crash))
    with caplog.at_level(logging.ERROR):
        crashed = await wallet.get("/deposit", asset_code="USD")
    assert crashed.status_code == 500
    assert "hunter2" not in crashed.text
    assert await count_rows(sessions) == (0, 0)

    def float_amount(params, txn):  # type: ignore[no-untyped-def]
        txn.amount_fee = 0.1
        return {}

    use_hooks(deposit=StubDeposit(float_amount))
    assert (await wallet.get("/deposit", asset_code="USD", amount="5")).status_code == 500
    assert await count_rows(sessions) == (0, 0)


async def test_async_hook_and_hook_set_status(wallet: Wallet, sessions) -> None:
    class AsyncDeposit(StubDeposit):
        async def process_sep6_request(self, token, request, params, transaction, *a, **k):  # type: ignore[no-untyped-def]
            transaction.status = "incomplete"
            return {"how": "later"}

    use_hooks(deposit=AsyncDeposit())
    response = await wallet.get("/deposit", asset_code="USD")
    assert response.status_code == 200
    txn = await load(sessions, response.json()["id"])
    assert txn.status == "incomplete"
    async with sessions() as session:
        [event] = (await session.scalars(select(Event))).all()
    assert event.actor == "deposit.process_sep6_request"

    class IllegalStatus(StubDeposit):
        def process_sep6_request(self, token, request, params, transaction, *a, **k):  # type: ignore[no-untyped-def]
            transaction.status = "completed"  # not a status a new transaction may take
            return {}

    use_hooks(deposit=IllegalStatus())
    response = await wallet.get("/deposit", asset_code="USD")
    assert (await load(sessions, response.json()["id"])).status == "pending_user_transfer_start"


async def test_fee_hook_and_amounts_that_cannot_pay_it(wallet: Wallet, sessions) -> None:
    def fee(params):  # type: ignore[no-untyped-def]
        assert params["operation"] == "deposit"
        return Decimal("3")

    use_hooks(fee=fee)
    response = await wallet.get("/deposit", asset_code="USD", amount="10")
    body = response.json()
    assert "fee_fixed" not in body and "fee_percent" not in body  # not static any more
    txn = await load(sessions, body["id"])
    assert (txn.amount_fee, txn.amount_out) == (Decimal("3.00"), Decimal("7.00"))
    too_small = await wallet.get("/deposit", asset_code="USD", amount="2")
    assert too_small.status_code == 400
    assert too_small.json()["error"].startswith("amount: ")


async def test_extreme_amounts(client, sessions, cipher) -> None:
    await add_asset(sessions, cipher, code="BIG", significant_decimals=7)
    use_hooks()
    wallet = Wallet(client)
    for amount in ("922337203685.4775807", "0.0000001"):
        response = await wallet.get("/deposit", asset_code="BIG", amount=amount)
        assert response.status_code == 200, response.text
        shown = (await wallet.get("/transaction", id=response.json()["id"])).json()
        assert shown["transaction"]["amount_in"] == amount
    over = await wallet.get("/deposit", asset_code="BIG", amount="922337203685.4775808")
    assert over.status_code == 400


async def test_disabled_without_a_hook(client, sessions, cipher) -> None:
    await add_asset(sessions, cipher)
    response = await Wallet(client).get("/deposit", asset_code="USD")
    assert response.status_code == 400
    assert response.json()["error"] == "asset_code: deposit of USD is not enabled"
