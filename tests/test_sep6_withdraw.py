"""SEP-6 withdrawals: the account and a unique memo the wallet pays to."""

from __future__ import annotations

import base64
from decimal import Decimal

import httpx
import pytest
from stellar_sdk import Keypair

from killick.app import create_app
from killick.sep6 import memos
from tests.helpers import make_settings
from tests.sep6_support import INFO_NEEDED, Wallet, add_asset, count_rows, load, use_hooks


@pytest.fixture
async def asset(sessions, cipher):
    return await add_asset(
        sessions, cipher, withdrawal_fee_fixed="0.5", withdrawal_max_amount="500"
    )


async def test_success_gives_account_and_memo(client, sessions, asset) -> None:
    use_hooks(withdraw={"extra_info": {"message": "Cash ready in 1 hour"}, "eta": 3600})
    wallet = Wallet(client)
    source = Keypair.random().public_key  # may differ from the authenticated account
    response = await wallet.get(
        "/withdraw",
        asset_code="USD",
        amount="100",
        account=source,
        refund_memo="77",
        refund_memo_type="id",
        type="bank_account",
        dest="DE89370400440532013000",
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body == {
        "id": body["id"],
        "account_id": asset.distribution_account,
        "memo_type": "id",
        "memo": body["memo"],
        "eta": 3600,
        "max_amount": 500,
        "fee_fixed": 0.5,
        "extra_info": {"message": "Cash ready in 1 hour"},
    }
    assert 0 < int(body["memo"]) < 2**63
    txn = await load(sessions, body["id"])
    assert txn.kind == "withdrawal"
    assert txn.status == "pending_user_transfer_start"
    assert txn.principal == wallet.account
    assert txn.from_address == source
    assert (txn.withdraw_anchor_account, txn.withdraw_memo) == (
        asset.distribution_account,
        body["memo"],
    )
    assert (txn.refund_memo, txn.refund_memo_type) == ("77", "id")
    assert txn.dest == "DE89370400440532013000"
    assert (txn.amount_in, txn.amount_fee, txn.amount_out) == (
        Decimal("100"),
        Decimal("0.50"),
        Decimal("99.50"),
    )
    shown = (await wallet.get("/transaction", id=body["id"])).json()["transaction"]
    assert shown["withdraw_memo"] == body["memo"]
    assert shown["withdraw_anchor_account"] == asset.distribution_account
    assert shown["from"] == source


async def test_memos_are_unique_even_when_the_generator_repeats(
    client, sessions, asset, monkeypatch
) -> None:
    use_hooks()
    wallet = Wallet(client)
    first = (await wallet.get("/withdraw", asset_code="USD")).json()["memo"]
    values = iter([first, first, "12345"])
    monkeypatch.setitem(memos.GENERATORS, "id", lambda: next(values))
    second = await wallet.get("/withdraw", asset_code="USD")
    assert second.status_code == 200
    assert second.json()["memo"] == "12345"


async def test_customer_info_needed_gives_no_memo_yet(client, sessions, asset) -> None:
    use_hooks(withdraw=INFO_NEEDED)
    response = await Wallet(client).get("/withdraw", asset_code="USD")
    assert response.status_code == 200
    assert "memo" not in response.json() and "account_id" not in response.json()
    txn = await load(sessions, response.json()["id"])
    assert txn.status == "pending_customer_info_update"
    assert txn.withdraw_memo is None


@pytest.mark.parametrize("memo_type", ["hash", "text"])
async def test_other_memo_types(database_url, engine, sessions, asset, memo_type) -> None:
    use_hooks()
    settings = make_settings(DATABASE_URL=database_url, SEP6_WITHDRAW_MEMO_TYPE=memo_type)
    transport = httpx.ASGITransport(app=create_app(settings, engine=engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        body = (await Wallet(client).get("/withdraw", asset_code="USD")).json()
    assert body["memo_type"] == memo_type
    if memo_type == "hash":
        assert len(base64.b64decode(body["memo"])) == 32
    else:
        assert 0 < len(body["memo"].encode()) <= 28


async def test_no_distribution_account_means_disabled(client, sessions, cipher) -> None:
    from killick.assets import create_asset

    async with sessions() as session:
        await create_asset(
            session, cipher, code="NODIST", issuer=Keypair.random().public_key, sep6_enabled=True
        )
        await session.commit()
    use_hooks()
    wallet = Wallet(client)
    info = (await wallet.get("/info")).json()
    assert info["withdraw"]["NODIST"] == {"enabled": False}
    response = await wallet.get("/withdraw", asset_code="NODIST")
    assert response.status_code == 400
    assert await count_rows(sessions) == (0, 0)
