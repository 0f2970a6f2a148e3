"""After the request: PATCH for asked-for fields, expiry, and resuming after KYC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from killick.expiry import expire_overdue
from killick.models import Event, Transaction
from killick.sep6.kyc_resume import resume_after_kyc
from killick.transactions import transition
from tests.helpers import make_settings
from tests.sep6_support import (
    DENIED,
    INFO_NEEDED,
    SUCCESS,
    StubDeposit,
    StubWithdraw,
    Wallet,
    add_asset,
    load,
    use_hooks,
)

ASKED = {
    "transaction": {
        "dest": {"description": "your IBAN"},
        "dest_extra": {"description": "BIC", "optional": True},
    }
}


async def waiting_for_update(sessions, txn_id: str) -> None:
    """Move a transaction the way the anchor would: funds in, then a field found wrong."""
    async with sessions() as session:
        txn = await session.get(Transaction, txn_id)
        assert txn is not None
        transition(session, txn, "pending_anchor")
        txn.required_info_updates = ASKED
        txn.required_info_message = "The IBAN is not valid"
        transition(session, txn, "pending_transaction_info_update")
        await session.commit()


@pytest.fixture
async def usd(sessions, cipher):
    return await add_asset(sessions, cipher, withdrawal_fee_fixed="1")


async def test_patch_updates_asked_fields_then_pending_anchor(client, sessions, usd) -> None:
    patched = []

    def patch(params, txn):  # type: ignore[no-untyped-def]
        patched.append(params)
        txn.dest = params["dest"]

    use_hooks(withdraw=StubWithdraw(patch=patch))
    wallet = Wallet(client)
    txn_id = (await wallet.get("/withdraw", asset_code="USD")).json()["id"]
    not_yet = await wallet.patch(f"/transactions/{txn_id}", {"transaction": {"dest": "DE89"}})
    assert not_yet.status_code == 400
    await waiting_for_update(sessions, txn_id)
    shown = (await wallet.get("/transaction", id=txn_id)).json()["transaction"]
    assert shown["required_info_updates"] == ASKED
    for body, name in (
        ({"transaction": {"dest": "DE89", "amount_in": "5"}}, "amount_in"),
        ({"transaction": {}}, "dest"),
        ({"transaction": {"dest": 12}}, "dest"),
        ({"dest": "DE89"}, "transaction"),
        ([1], "transaction"),
    ):
        response = await wallet.patch(f"/transactions/{txn_id}", body)
        assert response.status_code == 400
        assert response.json()["error"].startswith(name)
    assert (await load(sessions, txn_id)).status == "pending_transaction_info_update"
    assert (
        await wallet.patch("/transactions/unknown", {"transaction": {"dest": "x"}})
    ).status_code == 404
    response = await wallet.patch(f"/transactions/{txn_id}", {"transaction": {"dest": "DE89"}})
    assert response.status_code == 200, response.text
    body = response.json()["transaction"]
    assert body["status"] == "pending_anchor"
    assert "required_info_updates" not in body
    assert patched == [{"dest": "DE89"}]
    txn = await load(sessions, txn_id)
    assert (txn.status, txn.dest) == ("pending_anchor", "DE89")


async def test_patch_refused_by_the_hook_changes_nothing(client, sessions, usd) -> None:
    def refuse(params, txn):  # type: ignore[no-untyped-def]
        txn.dest = params["dest"]
        raise ValueError("dest: not an IBAN")

    use_hooks(withdraw=StubWithdraw(patch=refuse))
    wallet = Wallet(client)
    txn_id = (await wallet.get("/withdraw", asset_code="USD")).json()["id"]
    await waiting_for_update(sessions, txn_id)
    response = await wallet.patch(f"/transactions/{txn_id}", {"transaction": {"dest": "x"}})
    assert response.status_code == 400
    assert response.json() == {"error": "dest: not an IBAN"}
    txn = await load(sessions, txn_id)
    assert (txn.status, txn.dest) == ("pending_transaction_info_update", None)


async def test_expire_overdue_moves_only_overdue_waiting_transactions(
    client, sessions, usd
) -> None:
    use_hooks()
    wallet = Wallet(client)
    waiting = (await wallet.get("/deposit", asset_code="USD")).json()["id"]
    moving = (await wallet.get("/deposit", asset_code="USD")).json()["id"]
    async with sessions() as session:
        txn = await session.get(Transaction, moving)
        transition(session, txn, "pending_anchor")  # the user's funds arrived
        await session.commit()
    deadline = (await load(sessions, waiting)).user_action_required_by
    assert deadline is not None
    assert (await load(sessions, moving)).user_action_required_by is None
    async with sessions() as session:
        assert await expire_overdue(session, deadline - timedelta(seconds=1)) == []
        assert await expire_overdue(session, deadline + timedelta(seconds=1)) == [waiting]
        await session.commit()
    expired = await load(sessions, waiting)
    assert expired.status == "expired"
    assert expired.user_action_required_by is None
    async with sessions() as session:
        events = (await session.scalars(select(Event).where(Event.transaction_id == waiting))).all()
        assert [e.to_status for e in events] == ["pending_user_transfer_start", "expired"]
        assert await expire_overdue(session, deadline + timedelta(days=30)) == []


async def test_deadlines_follow_the_settings() -> None:
    from killick.expiry import user_deadline

    now = datetime(2024, 1, 1, tzinfo=UTC)
    settings = make_settings(SEP6_TRANSFER_DEADLINE_SECONDS=60, SEP6_INFO_DEADLINE_SECONDS=0)
    assert user_deadline(settings, "pending_user_transfer_start", now) == now + timedelta(
        seconds=60
    )
    assert user_deadline(settings, "pending_customer_info_update", now) is None  # 0: none
    assert user_deadline(settings, "pending_anchor", now) is None


async def test_resume_after_kyc_moves_waiting_transactions(client, sessions, usd, app) -> None:
    kyc = {"accepted": False}

    def deposit_answer(params, txn):  # type: ignore[no-untyped-def]
        return SUCCESS if kyc["accepted"] else INFO_NEEDED

    def withdraw_answer(params, txn):  # type: ignore[no-untyped-def]
        return {} if kyc["accepted"] else INFO_NEEDED

    deposit, _withdraw = use_hooks(
        deposit=StubDeposit(deposit_answer), withdraw=StubWithdraw(withdraw_answer)
    )
    wallet = Wallet(client, memo="5")
    dep = (
        await wallet.get("/deposit", asset_code="USD", amount="20", memo_type="id", memo="9")
    ).json()["id"]
    wd = (await wallet.get("/withdraw", asset_code="USD", amount="30")).json()["id"]
    other = (await Wallet(client).get("/deposit", asset_code="USD")).json()["id"]
    settings = app.state.killick.settings

    async with sessions() as session:  # KYC still missing: they stay
        assert await resume_after_kyc(session, f"{wallet.account}:5", settings=settings) == []
        await session.commit()
    assert (await load(sessions, dep)).status == "pending_customer_info_update"

    kyc["accepted"] = True
    async with sessions() as session:
        moved = await resume_after_kyc(session, f"{wallet.account}:5", settings=settings)
        await session.commit()
    assert sorted(moved) == sorted([dep, wd])
    resumed = await load(sessions, dep)
    assert resumed.status == "pending_user_transfer_start"
    assert resumed.how == SUCCESS["how"]
    assert resumed.message is None
    resumed_wd = await load(sessions, wd)
    assert resumed_wd.status == "pending_user_transfer_start"
    assert resumed_wd.withdraw_memo is not None
    assert resumed_wd.withdraw_anchor_account == usd.distribution_account
    assert (resumed_wd.amount_fee, resumed_wd.amount_out) == (Decimal("1.00"), Decimal("29.00"))
    assert (await load(sessions, other)).status == "pending_customer_info_update"
    # The hook got the stored request back, and the creating identity.
    last = deposit.recorder.calls[-1]
    assert last["params"]["amount"] == Decimal("20")
    assert (last["params"]["memo"], last["params"]["memo_type"]) == ("9", "id")
    assert last["token"].principal == f"{wallet.account}:5"
    shown = (await wallet.get("/transaction", id=wd)).json()["transaction"]
    assert shown["withdraw_memo"] == resumed_wd.withdraw_memo


async def test_resume_with_denied_or_refusing_hook_ends_in_error(client, sessions, usd, app):
    answers = {"answer": INFO_NEEDED}
    use_hooks(deposit=StubDeposit(lambda params, txn: answers["answer"]))
    wallet = Wallet(client)
    first = (await wallet.get("/deposit", asset_code="USD")).json()["id"]
    answers["answer"] = DENIED
    async with sessions() as session:
        assert await resume_after_kyc(session, wallet.account, request=_request(app)) == [first]
        await session.commit()
    assert (await load(sessions, first)).status == "error"

    answers["answer"] = INFO_NEEDED
    second = (await wallet.get("/deposit", asset_code="USD")).json()["id"]

    def refuse(params, txn):  # type: ignore[no-untyped-def]
        raise ValueError("limit reached")

    use_hooks(deposit=StubDeposit(refuse))
    async with sessions() as session:
        assert await resume_after_kyc(session, wallet.account, request=_request(app)) == [second]
        await session.commit()
    refused = await load(sessions, second)
    assert (refused.status, refused.message) == ("error", "limit reached")

    answers["answer"] = INFO_NEEDED
    use_hooks(deposit=StubDeposit(lambda params, txn: answers["answer"]))
    third = (await wallet.get("/deposit", asset_code="USD")).json()["id"]
    use_hooks(deposit=StubDeposit(lambda params, txn: {"bogus": 1}))
    async with sessions() as session:  # the hook's bug: it keeps waiting
        assert await resume_after_kyc(session, wallet.account, request=_request(app)) == []
        await session.commit()
    assert (await load(sessions, third)).status == "pending_customer_info_update"


def _request(app):  # type: ignore[no-untyped-def]
    """The smallest stand-in for the Starlette request SEP-12 passes."""

    class Request:
        pass

    request = Request()
    request.app = app  # type: ignore[attr-defined]
    return request


async def test_resume_never_stores_a_status_the_state_machine_refuses(
    client, sessions, usd, app
) -> None:
    use_hooks(deposit=INFO_NEEDED)
    wallet = Wallet(client)
    txn_id = (await wallet.get("/deposit", asset_code="USD")).json()["id"]

    def sneaky(params, txn):  # type: ignore[no-untyped-def]
        txn.status = "completed"
        return INFO_NEEDED

    use_hooks(deposit=StubDeposit(sneaky))
    async with sessions() as session:
        assert await resume_after_kyc(session, wallet.account, request=_request(app)) == []
        await session.commit()
    assert (await load(sessions, txn_id)).status == "pending_customer_info_update"
