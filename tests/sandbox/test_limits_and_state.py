"""Operations-per-ledger limit, surge pricing, the queue, and --state across a restart."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sandbox_helpers import balance_id_from
from stellar_sdk import Asset, Claimant, TransactionBuilder, xdr
from stellar_sdk.exceptions import BadRequestError
from stellar_sdk.operation import (
    ChangeTrust,
    ClaimClaimableBalance,
    CreateClaimableBalance,
    Payment,
)

from killick.sandbox import SandboxNetwork, running_sandbox


async def pay(chain, source, destination, fee: int, **kw):
    envelope = await chain.build(
        source, [Payment(destination.public_key, Asset.native(), "1")], base_fee=fee, **kw
    )
    return envelope, await chain.server.submit_transaction_async(envelope)


async def found(chain, envelope) -> dict | None:
    response = await chain.http.get(f"/transactions/{envelope.hash_hex()}")
    return response.json() if response.status_code == 200 else None


async def test_surge_pricing_takes_the_best_bids_and_charges_the_lowest(slow_chain):
    chain = slow_chain
    sink, *payers = await chain.fund(5)
    limits = await chain.http.post("/_sandbox/limits", json={"max_ops_per_ledger": 2})
    assert limits.json()["max_ops_per_ledger"] == 2
    bids = {100: payers[0], 200: payers[1], 300: payers[2], 400: payers[3]}
    sent = {fee: (await pay(chain, key, sink, fee))[0] for fee, key in bids.items()}

    ledger = await chain.network.close_ledger()
    assert ledger.tx_set_operation_count == 2
    for fee in (400, 300):
        record = await found(chain, sent[fee])
        assert record is not None and record["fee_charged"] == "300", fee
    assert await found(chain, sent[100]) is None  # still waiting in the queue
    stats = await chain.server.fee_stats().call()
    assert stats["ledger_capacity_usage"] == "1.00"
    assert stats["last_ledger_base_fee"] == "100"  # the header's base fee does not move
    assert stats["fee_charged"]["max"] == "300"  # friendbot's earlier funding paid 100
    ledger_json = await chain.server.ledgers().ledger(ledger.sequence).call()
    assert ledger_json["max_tx_set_size"] == 2

    # Demand now fits: the low bids get in at the base fee.
    await chain.network.close_ledger()
    for fee in (200, 100):
        assert (await found(chain, sent[fee]))["fee_charged"] == "100"


async def test_low_bids_wait_then_expire_or_are_refused_when_the_queue_is_full(slow_chain):
    chain = slow_chain
    sink, low, *rich = await chain.fund(6)
    chain.network.set_limits(max_ops_per_ledger=1, queue_ledgers=10)
    # A cheap transaction valid for two more ledgers, behind richer ones.
    account = await chain.server.load_account(low.public_key)
    latest = chain.network.latest_ledger.sequence
    cheap = (
        TransactionBuilder(account, chain.passphrase, base_fee=100)
        .append_payment_op(sink.public_key, Asset.native(), "1")
        .set_timeout(60)
        .set_ledger_bounds(0, latest + 3)
        .build()
    )
    cheap.sign(low)
    await chain.server.submit_transaction_async(cheap)
    await pay(chain, rich[0], sink, 500)
    # The queue holds 2 ledgers' worth (2 ops): a third bid must beat the cheapest one…
    with pytest.raises(BadRequestError) as info:
        await pay(chain, rich[2], sink, 100)
    body = json.loads(info.value.message)
    assert body["tx_status"] == "ERROR"
    result = xdr.TransactionResult.from_xdr(body["error_result_xdr"])
    assert result.result.code == xdr.TransactionResultCode.txINSUFFICIENT_FEE
    assert result.fee_charged.int64 == 101  # the fee that would get it in
    # …which a bid of 600 does: the cheap one is evicted to make room.
    await pay(chain, rich[3], sink, 600)
    assert chain.network.pending_count == 2  # the evicted one went away
    for _ in range(3):
        await chain.network.close_ledger()
    assert await found(chain, cheap) is None
    assert chain.network.pending_count == 0


async def test_cheap_transaction_expires_by_its_ledger_bounds_while_waiting(slow_chain):
    chain = slow_chain
    sink, low, rich = await chain.fund(3)
    chain.network.set_limits(max_ops_per_ledger=1)
    account = await chain.server.load_account(low.public_key)
    latest = chain.network.latest_ledger.sequence
    cheap = (
        TransactionBuilder(account, chain.passphrase, base_fee=100)
        .append_payment_op(sink.public_key, Asset.native(), "1")
        .set_timeout(60)
        .set_ledger_bounds(0, latest + 2)
        .build()
    )
    cheap.sign(low)
    rich_tx = await chain.build(rich, [Payment(sink.public_key, Asset.native(), "1")], base_fee=900)
    for envelope in (cheap, rich_tx):
        await chain.server.submit_transaction_async(envelope)
    # Waiting synchronously for queued transactions answers them when they are decided.
    waits = [_capture(chain.server.submit_transaction(e)) for e in (cheap, rich_tx)]
    outcome = await chain.settle(*waits)
    assert outcome[1]["fee_charged"] == "900"
    error = outcome[0]
    assert isinstance(error, BadRequestError)
    assert error.extras["result_codes"] == {"transaction": "tx_too_late"}


async def _capture(awaitable):
    try:
        return await awaitable
    except BadRequestError as error:
        return error


async def test_state_file_survives_a_restart(tmp_path, chain_on):
    path = tmp_path / "sandbox.state"
    async with running_sandbox(network=SandboxNetwork(ledger_seconds=0.05, state_file=path)) as (
        running
    ):
        chain = chain_on(running)
        issuer, alice = await chain.fund(2)
        usd = Asset("USD", issuer.public_key)
        running.network.rates.set(Asset.native(), usd, "0.5")
        await chain.submit(alice, [ChangeTrust(usd)])
        paid = await chain.submit(issuer, [Payment(alice.public_key, usd, "12.5")])
        created = await chain.submit(
            alice, [CreateClaimableBalance(usd, "2.5", [Claimant(issuer.public_key)])]
        )
        balance_id = balance_id_from(created)
        last = running.network.latest_ledger.sequence
        await chain.http.aclose()

    with path.open("ab") as handle:  # a torn frame, as if killed mid-write
        handle.write(b"\x00\x00\x10\x00garbage")

    async with running_sandbox(network=SandboxNetwork(ledger_seconds=0.05, state_file=path)) as (
        running
    ):
        chain = chain_on(running)
        server = chain.server
        assert running.network.latest_ledger.sequence >= last
        assert running.network.rates.price("native", f"USD:{issuer.public_key}") == Decimal("0.5")
        record = await server.transactions().transaction(paid["hash"]).call()
        assert record["ledger"] == paid["ledger"]
        account = await chain.account(alice)
        assert await chain.balance(alice, usd) == Decimal(10)
        assert account["num_sponsoring"] == 1
        balance = await server.claimable_balances().claimable_balance(balance_id).call()
        assert balance["amount"] == "2.5000000"
        # The network carries on from where it was: new ledgers, friendbot, claims.
        (carol,) = await chain.fund()
        await chain.submit(issuer, [ClaimClaimableBalance(balance_id)])
        assert (await chain.account(alice))["num_sponsoring"] == 0
        assert (await chain.account(carol))["sequence"]
        await chain.http.aclose()
