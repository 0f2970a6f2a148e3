"""Each fault switch produces exactly the failure it names, and nothing else."""

from __future__ import annotations

import asyncio

import pytest
from stellar_sdk import Asset
from stellar_sdk.exceptions import (
    BadRequestError,
    BadResponseError,
    ConnectionError,
    NotFoundError,
)
from stellar_sdk.operation import Payment

TIMEOUT = 5


async def admin(chain, method: str, path: str, json: dict | None = None) -> dict:
    """The admin endpoints are plain JSON, not Horizon; tests reach them with httpx."""
    response = await chain.http.request(method, path, json=json)
    assert response.status_code == 200, response.text
    return response.json()


async def eventually(check, seconds: float = TIMEOUT):
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        try:
            return await check()
        except NotFoundError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.05)


async def test_timeout_fault_answers_504_but_applies(chain):
    alice, bob = await chain.fund(2)
    state = await admin(chain, "POST", "/_sandbox/faults", {"submit_timeouts": 1})
    assert state["submit_timeouts"] == 1
    envelope = await chain.build(alice, [Payment(bob.public_key, Asset.native(), "7")])
    with pytest.raises(BadResponseError) as info:
        await chain.server.submit_transaction(envelope)
    assert info.value.status == 504
    assert info.value.type == "https://stellar.org/horizon-errors/timeout"
    tx = await eventually(
        lambda: chain.server.transactions().transaction(envelope.hash_hex()).call()
    )
    assert tx["successful"] is True
    assert await chain.balance(bob) == 10007
    # Only one submission was affected.
    result = await chain.submit(alice, [Payment(bob.public_key, Asset.native(), "1")])
    assert result["successful"] is True


async def test_bad_seq_fault_fires_once_without_applying(chain):
    alice, bob = await chain.fund(2)
    chain.network.faults.fail_next_submissions_with_bad_seq()
    before = await chain.account(alice)
    envelope = await chain.build(alice, [Payment(bob.public_key, Asset.native(), "1")])
    with pytest.raises(BadRequestError) as info:
        await chain.server.submit_transaction(envelope)
    assert info.value.extras["result_codes"] == {"transaction": "tx_bad_seq"}
    assert (await chain.account(alice))["sequence"] == before["sequence"]
    result = await chain.server.submit_transaction(envelope)
    assert result["hash"] == envelope.hash_hex() and result["successful"] is True


async def test_stream_close_fault_ends_streams_after_n_events(chain):
    alice, bob = await chain.fund(2)
    for _ in range(3):
        await chain.submit(alice, [Payment(bob.public_key, Asset.native(), "1")])
    await admin(chain, "POST", "/_sandbox/faults", {"stream_close_after": 2})
    stream = chain.server.payments().for_account(bob.public_key).stream()
    first = await asyncio.wait_for(stream.__anext__(), TIMEOUT)
    second = await asyncio.wait_for(stream.__anext__(), TIMEOUT)
    with pytest.raises(ConnectionError):
        await asyncio.wait_for(stream.__anext__(), TIMEOUT)
    assert first["type"] == "create_account" and second["type"] == "payment"

    await admin(chain, "DELETE", "/_sandbox/faults/stream_close_after")
    stream = chain.server.payments().for_account(bob.public_key).cursor(second["id"]).stream()
    rest = [await asyncio.wait_for(stream.__anext__(), TIMEOUT) for _ in range(2)]
    assert [r["type"] for r in rest] == ["payment", "payment"]
    await stream.aclose()


async def test_lag_fault_shows_old_state(slow_chain):
    chain = slow_chain
    alice, bob = await chain.fund(2)
    result = await chain.submit(alice, [Payment(bob.public_key, Asset.native(), "5")])
    latest = result["ledger"]

    chain.network.faults.lag(1)
    assert await chain.balance(bob) == 10000
    sequence = int((await chain.account(alice))["sequence"])
    assert sequence == int(result["source_account_sequence"]) - 1
    with pytest.raises(NotFoundError):
        await chain.server.transactions().transaction(result["hash"]).call()
    ledgers = await chain.server.ledgers().order(desc=True).limit(1).call()
    assert ledgers["_embedded"]["records"][0]["sequence"] == latest - 1
    assert (await chain.server.root().call())["history_latest_ledger"] == latest - 1
    with pytest.raises(NotFoundError):
        await chain.server.ledgers().ledger(latest).call()

    # Horizon catches up one ledger later.
    await chain.network.close_ledger()
    assert await chain.balance(bob) == 10005
    tx = await chain.server.transactions().transaction(result["hash"]).call()
    assert tx["ledger"] == latest

    chain.network.faults.lag(3)
    with pytest.raises(NotFoundError):  # bob did not exist three ledgers ago
        await chain.account(bob)
    chain.network.faults.reset("lag_ledgers")
    assert await chain.balance(bob) == 10005


async def test_rate_limit_fault_for_n_requests(chain):
    chain.network.faults.rate_limit(requests=2)
    for _ in range(2):
        with pytest.raises(BadRequestError) as info:
            await chain.server.root().call()
        assert info.value.status == 429
        assert info.value.type == "https://stellar.org/horizon-errors/rate_limit_exceeded"
    assert (await chain.server.root().call())["network_passphrase"] == chain.passphrase


async def test_unavailable_fault_for_a_while(chain):
    await admin(chain, "POST", "/_sandbox/faults", {"unavailable": {"seconds": 0.3}})
    with pytest.raises(BadResponseError) as info:
        await chain.server.fetch_base_fee()
    assert info.value.status == 503
    assert info.value.type == "https://stellar.org/horizon-errors/service_unavailable"
    # Admin endpoints keep working during the outage.
    state = await admin(chain, "GET", "/_sandbox/faults")
    assert state["unavailable"] is not None
    await asyncio.sleep(0.35)
    assert await chain.server.fetch_base_fee() == 100


async def test_faults_reset_all_at_once(chain):
    await admin(
        chain,
        "POST",
        "/_sandbox/faults",
        {"bad_seq": 2, "lag_ledgers": 3, "rate_limited": {"requests": 5}},
    )
    state = await admin(chain, "DELETE", "/_sandbox/faults")
    assert state == {
        "submit_timeouts": 0,
        "bad_seq": 0,
        "stream_close_after": None,
        "lag_ledgers": 0,
        "rate_limited": None,
        "unavailable": None,
    }
    response = await chain.http.post("/_sandbox/faults", json={"no_such_fault": 1})
    assert response.status_code == 400
