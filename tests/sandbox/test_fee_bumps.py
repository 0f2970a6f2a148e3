"""Fee-bump envelopes: the fee source pays, both hashes find the one record, as on Horizon."""

from __future__ import annotations

import pytest
from sandbox_helpers import codes
from stellar_sdk import (
    Asset,
    FeeBumpTransaction,
    FeeBumpTransactionEnvelope,
    TransactionBuilder,
    xdr,
)
from stellar_sdk.exceptions import BadRequestError
from stellar_sdk.operation import Payment

from killick.stellar.envelopes import read_result


async def bump(chain, payer, inner, fee_per_op: int = 200, *, total: int | None = None):
    """A signed fee bump; `total` sets the outer fee directly (stellar-sdk would refuse)."""
    if total is None:
        envelope = TransactionBuilder.build_fee_bump_transaction(
            payer.public_key, fee_per_op, inner, chain.passphrase
        )
    else:
        tx = FeeBumpTransaction(payer.public_key, total, inner)
        envelope = FeeBumpTransactionEnvelope(tx, chain.passphrase)
    envelope.sign(payer)
    return envelope


async def test_fee_bump_is_paid_by_the_fee_source_and_found_by_both_hashes(chain):
    alice, bob, payer = await chain.fund(3)
    inner = await chain.build(alice, [Payment(bob.public_key, Asset.native(), "5")])
    outer = await bump(chain, payer, inner)
    (result,) = await chain.settle(chain.server.submit_transaction(outer))
    outer_hash, inner_hash = outer.hash_hex(), inner.hash_hex()
    assert result["hash"] == outer_hash
    assert result["fee_account"] == payer.public_key
    assert result["source_account"] == alice.public_key
    assert result["fee_charged"] == "200"  # (1 op + 1) x base fee
    assert result["max_fee"] == "400"
    assert result["inner_transaction"]["hash"] == inner_hash
    assert result["inner_transaction"]["max_fee"] == "100"
    assert result["fee_bump_transaction"]["hash"] == outer_hash
    decoded = xdr.TransactionResult.from_xdr(result["result_xdr"])
    assert decoded.result.code == xdr.TransactionResultCode.txFEE_BUMP_INNER_SUCCESS
    assert decoded.result.inner_result_pair.transaction_hash.hash.hex() == inner_hash
    assert read_result(result["result_xdr"]).successful

    by_inner = await chain.server.transactions().transaction(inner_hash).call()
    by_outer = await chain.server.transactions().transaction(outer_hash).call()
    assert by_inner["hash"] == by_inner["id"] == inner_hash
    assert by_outer["hash"] == outer_hash
    assert by_inner["paging_token"] == by_outer["paging_token"]
    assert by_inner["signatures"] == by_inner["inner_transaction"]["signatures"]
    assert by_outer["signatures"] == by_outer["fee_bump_transaction"]["signatures"]
    assert by_inner["signatures"] != by_outer["signatures"]
    listed = await chain.server.transactions().for_account(payer.public_key).call()
    assert listed["_embedded"]["records"][-1]["hash"] == outer_hash
    ops = await chain.server.payments().for_transaction(inner_hash).call()
    (payment,) = ops["_embedded"]["records"]
    assert payment["transaction_hash"] == outer_hash
    assert payment["from"] == alice.public_key

    # Alice paid the 5 XLM but no fee; the payer paid the fee.
    assert await chain.balance(alice) == 9995
    assert str(await chain.balance(payer)) == "9999.9999800"
    # Resubmitting either hash answers the recorded transaction.
    again = await chain.server.submit_transaction(outer)
    assert again["hash"] == outer_hash


async def test_fee_bump_refusals(chain):
    alice, bob, payer = await chain.fund(3)
    inner = await chain.build(alice, [Payment(bob.public_key, Asset.native(), "5")])
    # Outer fee must cover (ops + 1) x base fee and not bid less per op than the inner one.
    rich_inner = await chain.build(
        alice, [Payment(bob.public_key, Asset.native(), "5")], base_fee=300
    )
    for envelope in (
        await bump(chain, payer, inner, total=150),
        await bump(chain, payer, rich_inner, total=500),
    ):
        with pytest.raises(BadRequestError) as info:
            await chain.server.submit_transaction(envelope)
        assert codes(info.value) == {"transaction": "tx_insufficient_fee"}
        fee_needed = xdr.TransactionResult.from_xdr(info.value.extras["result_xdr"]).fee_charged
        assert fee_needed.int64 == 200

    stale = await chain.build(alice, [Payment(bob.public_key, Asset.native(), "5")], sequence=0)
    with pytest.raises(BadRequestError) as info:
        await chain.server.submit_transaction(await bump(chain, payer, stale))
    assert codes(info.value) == {
        "transaction": "tx_fee_bump_inner_failed",
        "inner_transaction": "tx_bad_seq",
    }
    decoded = xdr.TransactionResult.from_xdr(info.value.extras["result_xdr"])
    assert (
        decoded.result.inner_result_pair.result.result.code == xdr.TransactionResultCode.txBAD_SEQ
    )


async def test_failed_inner_operation_still_charges_the_fee_source(chain):
    alice, bob, payer = await chain.fund(3)
    inner = await chain.build(alice, [Payment(bob.public_key, Asset("USD", bob.public_key), "5")])
    with pytest.raises(BadRequestError) as info:
        await chain.settle(chain.server.submit_transaction(await bump(chain, payer, inner)))
    assert codes(info.value) == {
        "transaction": "tx_fee_bump_inner_failed",
        "inner_transaction": "tx_failed",
        "operations": ["op_src_no_trust"],
    }
    assert str(await chain.balance(payer)) == "9999.9999800"
    record = await chain.server.transactions().transaction(inner.hash_hex()).call()
    assert record["successful"] is False
    assert int((await chain.account(alice))["sequence"]) == inner.transaction.sequence
