"""Submit-time checks: signatures and thresholds, sequence, fees, time bounds, XDR."""

from __future__ import annotations

import time

import pytest
from stellar_sdk import (
    Asset,
    Keypair,
    Network,
    Signer,
    TransactionBuilder,
    xdr,
)
from stellar_sdk.exceptions import BadRequestError, raise_request_exception
from stellar_sdk.operation import BumpSequence, ManageSellOffer, Payment, SetOptions


def tx_code(error: BadRequestError) -> str:
    assert error.type == "https://stellar.org/horizon-errors/transaction_failed"
    return error.extras["result_codes"]["transaction"]


async def test_signer_weights_and_thresholds(chain):
    alice, bob = await chain.fund(2)
    cosigner = Keypair.random()
    await chain.submit(
        alice,
        [
            SetOptions(
                signer=Signer.ed25519_public_key(cosigner.public_key, 1),
                low_threshold=2,
                med_threshold=2,
                high_threshold=2,
            )
        ],
    )
    account = await chain.account(alice)
    assert account["thresholds"] == {"low_threshold": 2, "med_threshold": 2, "high_threshold": 2}
    assert {"key": cosigner.public_key, "weight": 1, "type": "ed25519_public_key"} in account[
        "signers"
    ]
    pay = [Payment(bob.public_key, Asset.native(), "1")]
    before = await chain.account(alice)

    error = await chain.submit_failing(alice, pay)
    assert tx_code(error) == "tx_bad_auth"
    error = await chain.submit_failing(alice, pay, signers=[cosigner])
    assert tx_code(error) == "tx_bad_auth"
    assert (await chain.account(alice))["sequence"] == before["sequence"]  # nothing consumed

    result = await chain.submit(alice, pay, signers=[alice, cosigner])
    assert result["successful"] is True

    # Low threshold met, medium not: the payment op itself lacks authority (as in core).
    await chain.submit(alice, [SetOptions(low_threshold=1)], signers=[alice, cosigner])
    error = await chain.submit_failing(alice, pay)
    assert error.extras["result_codes"] == {
        "transaction": "tx_failed",
        "operations": ["op_bad_auth"],
    }


async def test_unneeded_signature_is_bad_auth_extra(chain):
    alice, bob = await chain.fund(2)
    error = await chain.submit_failing(
        alice, [Payment(bob.public_key, Asset.native(), "1")], signers=[alice, Keypair.random()]
    )
    assert tx_code(error) == "tx_bad_auth_extra"


async def test_transaction_for_another_network_is_bad_auth(chain):
    alice, bob = await chain.fund(2)
    error = await chain.submit_failing(
        alice,
        [Payment(bob.public_key, Asset.native(), "1")],
        passphrase=Network.PUBLIC_NETWORK_PASSPHRASE,
    )
    assert tx_code(error) == "tx_bad_auth"


async def test_bad_sequence(chain):
    alice, bob = await chain.fund(2)
    account = await chain.account(alice)
    error = await chain.submit_failing(
        alice,
        [Payment(bob.public_key, Asset.native(), "1")],
        sequence=int(account["sequence"]) + 5,
    )
    assert tx_code(error) == "tx_bad_seq"
    decoded = xdr.TransactionResult.from_xdr(error.extras["result_xdr"])
    assert decoded.result.code == xdr.TransactionResultCode.txBAD_SEQ


async def test_insufficient_fee(chain):
    alice, bob = await chain.fund(2)
    error = await chain.submit_failing(
        alice, [Payment(bob.public_key, Asset.native(), "1")] * 2, base_fee=99
    )
    assert tx_code(error) == "tx_insufficient_fee"
    stats = await chain.server.fee_stats().call()
    assert stats["last_ledger_base_fee"] == "100"


async def test_time_bounds_are_judged_against_ledger_close_time(chain):
    alice, bob = await chain.fund(2)
    account = await chain.server.load_account(alice.public_key)
    now = int(time.time())
    late = (
        TransactionBuilder(account, chain.passphrase, base_fee=100)
        .append_operation(Payment(bob.public_key, Asset.native(), "1"))
        .add_time_bounds(0, now - 10)
        .build()
    )
    late.sign(alice)
    with pytest.raises(BadRequestError) as info:
        await chain.server.submit_transaction(late)
    assert tx_code(info.value) == "tx_too_late"
    early = (
        TransactionBuilder(account, chain.passphrase, base_fee=100)
        .append_operation(Payment(bob.public_key, Asset.native(), "1"))
        .add_time_bounds(now + 3600, 0)
        .build()
    )
    early.sign(alice)
    with pytest.raises(BadRequestError) as info:
        await chain.server.submit_transaction(early)
    assert tx_code(info.value) == "tx_too_early"


async def test_missing_source_account(chain):
    (bob,) = await chain.fund()
    ghost = Keypair.random()
    from stellar_sdk import Account

    tx = (
        TransactionBuilder(Account(ghost.public_key, 1), chain.passphrase, base_fee=100)
        .append_operation(Payment(bob.public_key, Asset.native(), "1"))
        .set_timeout(30)
        .build()
    )
    tx.sign(ghost)
    with pytest.raises(BadRequestError) as info:
        await chain.server.submit_transaction(tx)
    assert tx_code(info.value) == "tx_no_source_account"


async def test_fee_beyond_available_balance(chain):
    (alice,) = await chain.fund()
    # Spend down to the reserve first, then bid a fee larger than what is left.
    await chain.submit(
        alice, [Payment(chain.network.root_keypair.public_key, Asset.native(), "9998.9999")]
    )
    error = await chain.submit_failing(alice, [BumpSequence(0)], base_fee=10_000)
    assert tx_code(error) == "tx_insufficient_balance"


async def test_malformed_envelope(chain):
    # stellar-sdk refuses to send bad XDR itself, so post it through its HTTP client.
    response = await chain.client.post(f"{chain.url}/transactions", data={"tx": "AAAA-not-xdr"})
    with pytest.raises(BadRequestError) as info:
        raise_request_exception(response)
    assert info.value.status == 400
    assert info.value.type == "https://stellar.org/horizon-errors/transaction_malformed"
    assert info.value.extras == {"envelope_xdr": "AAAA-not-xdr"}


async def test_unsupported_operation_is_refused_and_charged(chain):
    (alice,) = await chain.fund()
    before = await chain.account(alice)
    offer = ManageSellOffer(Asset.native(), Asset("USD", alice.public_key), "1", "1")
    error = await chain.submit_failing(alice, [offer])
    assert error.extras["result_codes"] == {
        "transaction": "tx_failed",
        "operations": ["op_not_supported"],
    }
    decoded = xdr.TransactionResult.from_xdr(error.extras["result_xdr"])
    assert decoded.result.results[0].code == xdr.OperationResultCode.opNOT_SUPPORTED
    after = await chain.account(alice)
    assert int(after["sequence"]) == int(before["sequence"]) + 1
