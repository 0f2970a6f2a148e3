"""Path payments through the rate table, account merge, bump sequence, async submission."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sandbox_helpers import codes, issued_asset
from stellar_sdk import Asset, xdr
from stellar_sdk.exceptions import BadRequestError
from stellar_sdk.operation import (
    AccountMerge,
    BumpSequence,
    ChangeTrust,
    PathPaymentStrictReceive,
    PathPaymentStrictSend,
    Payment,
)


async def test_path_payments_convert_at_the_configured_rate(chain):
    usd, issuer, (alice, bob) = await issued_asset(chain, holders=2)
    xlm = Asset.native()
    answer = await chain.http.post(
        "/_sandbox/rates",
        json={"rates": [{"sell": "native", "buy": f"USD:{issuer.public_key}", "price": "0.1"}]},
    )
    assert answer.json()["rates"][0]["price"] == "0.1"

    sent = await chain.submit(
        alice, [PathPaymentStrictSend(bob.public_key, xlm, "100", usd, "9.5", [])]
    )
    assert await chain.balance(bob, usd) == Decimal(10)
    received = await chain.submit(
        alice, [PathPaymentStrictReceive(bob.public_key, xlm, "60", usd, "5", [])]
    )
    assert await chain.balance(bob, usd) == Decimal(15)
    assert await chain.balance(alice) == Decimal(10000) - 150 - Decimal("0.00003")

    (send_op,) = (await chain.server.payments().for_transaction(sent["hash"]).call())["_embedded"][
        "records"
    ]
    assert send_op["type"] == "path_payment_strict_send"
    assert (send_op["amount"], send_op["source_amount"]) == ("10.0000000", "100.0000000")
    assert send_op["destination_min"] == "9.5000000"
    assert send_op["source_asset_type"] == "native" and send_op["asset_code"] == "USD"
    assert send_op["path"] == []
    (receive_op,) = (await chain.server.payments().for_transaction(received["hash"]).call())[
        "_embedded"
    ]["records"]
    assert (receive_op["amount"], receive_op["source_amount"]) == ("5.0000000", "50.0000000")
    assert receive_op["source_max"] == "60.0000000"
    # The conversion shows in the result XDR as an offer crossed, as on the real network.
    result = xdr.TransactionResult.from_xdr(received["result_xdr"]).result.results[0]
    success = result.tr.path_payment_strict_receive_result.success
    (atom,) = success.offers
    assert atom.order_book.amount_bought.int64 == 500_000_000

    failures = {
        "op_under_dest_min": PathPaymentStrictSend(bob.public_key, xlm, "10", usd, "2", []),
        "op_over_source_max": PathPaymentStrictReceive(bob.public_key, xlm, "10", usd, "2", []),
        "op_too_few_offers": PathPaymentStrictSend(
            bob.public_key, xlm, "10", usd, "0.1", [Asset("EUR", issuer.public_key)]
        ),
        "op_no_trust": PathPaymentStrictSend(
            chain.network.root_keypair.public_key, xlm, "10", usd, "0.1", []
        ),
    }
    for code, op in failures.items():
        error = await chain.submit_failing(alice, [op])
        assert codes(error)["operations"] == [code]


async def test_same_asset_path_payment_needs_no_rate(chain):
    alice, bob = await chain.fund(2)
    xlm = Asset.native()
    await chain.submit(alice, [PathPaymentStrictSend(bob.public_key, xlm, "3", xlm, "3", [])])
    assert await chain.balance(bob) == Decimal(10003)


async def test_account_merge_and_bump_sequence(chain):
    alice, bob, carol = await chain.fund(3)
    bumped = await chain.submit(carol, [BumpSequence(10**12)])
    assert (await chain.account(carol))["sequence"] == str(10**12)
    (op,) = (await chain.server.operations().for_transaction(bumped["hash"]).call())["_embedded"][
        "records"
    ]
    assert op["bump_to"] == str(10**12)
    error = await chain.submit_failing(carol, [AccountMerge(bob.public_key)])
    assert codes(error)["operations"] == ["op_seq_num_too_far"]

    await chain.submit(alice, [ChangeTrust(Asset("USD", bob.public_key))])
    error = await chain.submit_failing(alice, [AccountMerge(bob.public_key)])
    assert codes(error)["operations"] == ["op_has_sub_entries"]
    await chain.submit(alice, [ChangeTrust(Asset("USD", bob.public_key), "0")])
    nobody = "GA7QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJVSGZ"
    error = await chain.submit_failing(alice, [AccountMerge(nobody)])
    assert codes(error)["operations"] == ["op_no_account"]
    error = await chain.submit_failing(alice, [AccountMerge(alice.public_key)])
    assert codes(error)["operations"] == ["op_malformed"]

    before = await chain.balance(alice)
    merged = await chain.submit(alice, [AccountMerge(bob.public_key)])
    assert (await chain.client.get(f"{chain.url}/accounts/{alice.public_key}")).status_code == 404
    assert await chain.balance(bob) == Decimal(10000) + before - Decimal("0.00001")
    (op,) = (await chain.server.payments().for_transaction(merged["hash"]).call())["_embedded"][
        "records"
    ]
    assert (op["type"], op["account"], op["into"]) == (
        "account_merge",
        alice.public_key,
        bob.public_key,
    )
    result = xdr.TransactionResult.from_xdr(merged["result_xdr"]).result.results[0]
    moved = result.tr.account_merge_result.source_account_balance.int64
    assert Decimal(moved) / 10**7 == before - Decimal("0.00001")


async def test_async_submission_statuses(slow_chain):
    chain = slow_chain
    alice, bob = await chain.fund(2)
    envelope = await chain.build(alice, [Payment(bob.public_key, Asset.native(), "1")])
    pending = await chain.server.submit_transaction_async(envelope)
    assert pending == {"tx_status": "PENDING", "hash": envelope.hash_hex()}
    with pytest.raises(BadRequestError) as info:
        await chain.server.submit_transaction_async(envelope)
    assert info.value.status == 409
    assert json.loads(info.value.message)["tx_status"] == "DUPLICATE"
    stale = await chain.build(alice, [Payment(bob.public_key, Asset.native(), "2")])
    with pytest.raises(BadRequestError) as info:
        await chain.server.submit_transaction_async(stale)  # same sequence as the queued one
    body = json.loads(info.value.message)
    assert (info.value.status, body["tx_status"]) == (400, "ERROR")
    error = xdr.TransactionResult.from_xdr(body["error_result_xdr"])
    assert error.result.code == xdr.TransactionResultCode.txBAD_SEQ
    await chain.network.close_ledger()
    found = await chain.server.transactions().transaction(envelope.hash_hex()).call()
    assert found["successful"] is True
