"""Reading transactions: only the caller's, newest first, in pages without gaps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from stellar_sdk import Keypair

from killick.models import Asset, Transaction
from tests.helpers import bearer
from tests.sep6_support import Wallet, add_asset, use_hooks

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


async def store(sessions, asset: Asset, wallet: Wallet, count: int, **values) -> list[str]:
    """``count`` transactions of ``wallet``, one minute apart from T0 (unless _now given)."""
    ids = []
    async with sessions() as session:
        for n in range(count):
            txn = Transaction(
                kind=values.get("kind", "deposit"),
                status="pending_user_transfer_start",
                asset_id=asset.id,
                principal=values.get("principal", wallet.muxed or wallet.account),
                stellar_account=wallet.account,
                _now=values.get("_now", values.get("base", T0) + timedelta(minutes=n)),
                stellar_transaction_id=values.get("stellar_transaction_id"),
                external_transaction_id=values.get("external_transaction_id"),
            )
            session.add(txn)
            ids.append(txn.id)
        await session.commit()
    return ids


@pytest.fixture
async def usd(sessions, cipher) -> Asset:
    use_hooks()
    return await add_asset(sessions, cipher)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/deposit?asset_code=USD"),
        ("POST", "/deposit"),
        ("GET", "/withdraw?asset_code=USD"),
        ("POST", "/withdraw"),
        ("GET", "/transactions?asset_code=USD"),
        ("GET", "/transaction?id=x"),
        ("PATCH", "/transactions/x"),
    ],
)
async def test_no_or_bad_token_is_403_authentication_required(client, usd, method, path) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer not-a-jwt"},
        bearer(Keypair.random().public_key, host_url="http://other.example"),
        bearer(Keypair.random().public_key, lifetime_seconds=-10),
    ):
        response = await client.request(method, "/sep6" + path, headers=headers)
        assert response.status_code == 403, (path, headers)
        assert response.json() == {"type": "authentication_required"}
        assert response.headers["access-control-allow-origin"] == "*"


async def test_only_the_creating_principal_sees_a_transaction(client, sessions, usd) -> None:
    account = Keypair.random().public_key
    owner = Wallet(client, account, memo="7")
    created = await owner.get("/deposit", asset_code="USD")
    txn_id = created.json()["id"]
    others = [
        Wallet(client),  # another account
        Wallet(client, account),  # the same account without the memo
        Wallet(client, account, memo="8"),  # the same account, another memo
        Wallet(client, account, muxed_id=7),  # the muxed form of the same id
    ]
    for other in others:
        assert (await other.get("/transaction", id=txn_id)).status_code == 404
        listed = await other.get("/transactions", asset_code="USD")
        assert listed.json() == {"transactions": []}
        patched = await other.patch(f"/transactions/{txn_id}", {"transaction": {}})
        assert patched.status_code == 404
    assert (await Wallet(client, account, memo="7").get("/transaction", id=txn_id)).json()[
        "transaction"
    ]["id"] == txn_id


async def test_muxed_principal_owns_its_transactions(client, sessions, usd) -> None:
    account = Keypair.random().public_key
    muxed = Wallet(client, account, muxed_id=2**64 - 1)
    txn_id = (await muxed.get("/deposit", asset_code="USD")).json()["id"]
    assert (await muxed.get("/transaction", id=txn_id)).status_code == 200
    assert (await Wallet(client, account).get("/transaction", id=txn_id)).status_code == 404
    assert len((await muxed.get("/transactions", asset_code="USD")).json()["transactions"]) == 1


async def test_pages_are_newest_first_without_gaps_or_repeats(client, sessions, usd) -> None:
    wallet = Wallet(client)
    ids = await store(sessions, usd, wallet, 7)
    # three more started in the same microsecond: the id breaks the tie
    ids += await store(sessions, usd, wallet, 3, _now=T0 + timedelta(minutes=3))
    seen: list[str] = []
    paging_id = None
    while True:
        params = {"asset_code": "USD", "limit": "3"}
        if paging_id:
            params["paging_id"] = paging_id
        page = (await wallet.get("/transactions", **params)).json()["transactions"]
        if not page:
            break
        assert len(page) <= 3
        seen += [t["id"] for t in page]
        paging_id = page[-1]["id"]
    assert sorted(seen) == sorted(ids) and len(seen) == len(set(seen)) == 10
    starts = [
        t["started_at"]
        for t in (await wallet.get("/transactions", asset_code="USD")).json()["transactions"]
    ]
    assert starts == sorted(starts, reverse=True)
    assert (await wallet.get("/transactions", asset_code="USD", paging_id="nope")).json() == {
        "transactions": []
    }


async def test_filters(client, sessions, cipher, usd) -> None:
    wallet = Wallet(client)
    eur = await add_asset(sessions, cipher, code="EUR")
    deposits = await store(sessions, usd, wallet, 2)
    withdrawals = await store(
        sessions, usd, wallet, 2, kind="withdrawal", base=T0 + timedelta(minutes=10)
    )
    await store(sessions, eur, wallet, 2)

    async def ids(**params) -> list[str]:  # type: ignore[no-untyped-def]
        response = await wallet.get("/transactions", **params)
        assert response.status_code == 200, response.text
        return [t["id"] for t in response.json()["transactions"]]

    assert set(await ids(asset_code="USD")) == set(deposits + withdrawals)
    assert set(await ids(asset_code="USD", kind="withdrawal")) == set(withdrawals)
    both = await wallet.client.get(
        "/sep6/transactions?asset_code=USD&kind=deposit&kind=withdrawal", headers=wallet.headers
    )
    assert len(both.json()["transactions"]) == 4
    assert await ids(asset_code="USD", no_older_than=(T0 + timedelta(seconds=30)).isoformat()) == [
        withdrawals[1],
        withdrawals[0],
        deposits[1],
    ]
    assert await ids(asset_code="USD", limit="1") == [withdrawals[1]]
    assert len(await ids(asset_code="USD", account=wallet.account)) == 4
    for params, name in (
        ({"asset_code": "XYZ"}, "asset_code"),
        ({"asset_code": "USD", "account": Keypair.random().public_key}, "account"),
        ({"asset_code": "USD", "no_older_than": "yesterday"}, "no_older_than"),
        ({"asset_code": "USD", "limit": "0"}, "limit"),
        ({"asset_code": "USD", "kind": "withdraw"}, "kind"),
        ({"asset_code": "USD", "paging_id": "a\x00b"}, "paging_id"),
        ({}, "asset_code"),
    ):
        response = await wallet.get("/transactions", **params)
        assert response.status_code == 400, params
        assert response.json()["error"].startswith(name), response.json()


async def test_single_transaction_lookups(client, sessions, usd) -> None:
    wallet = Wallet(client)
    [by_stellar] = await store(sessions, usd, wallet, 1, stellar_transaction_id="ab" * 32)
    [by_external] = await store(sessions, usd, wallet, 1, external_transaction_id="bank-77")
    found = await wallet.get("/transaction", stellar_transaction_id="ab" * 32)
    assert found.json()["transaction"]["id"] == by_stellar
    found = await wallet.get("/transaction", external_transaction_id="bank-77")
    assert found.json()["transaction"]["id"] == by_external
    assert (await wallet.get("/transaction", id="unknown")).status_code == 404
    assert (
        await wallet.get("/transaction", id=by_stellar, external_transaction_id="bank-77")
    ).status_code == 404
    missing = await wallet.get("/transaction")
    assert missing.status_code == 400
    assert missing.json()["error"].startswith("id: ")
    assert (await wallet.get("/transaction", id="x\x00")).status_code == 400
