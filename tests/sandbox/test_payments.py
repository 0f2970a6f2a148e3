"""Funding, trustlines, payments and the ways they fail, seen through stellar-sdk."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sandbox_helpers import codes, issued_asset
from stellar_sdk import Asset, Keypair, MuxedAccount, TextMemo, xdr
from stellar_sdk.exceptions import BadRequestError
from stellar_sdk.operation import ChangeTrust, CreateAccount, ManageData, Payment

BASE_FEE = Decimal("0.00001")


async def test_friendbot_creates_a_funded_account(chain):
    (key,) = await chain.fund()
    account = await chain.account(key)
    assert account["balances"] == [
        {
            "balance": "10000.0000000",
            "buying_liabilities": "0.0000000",
            "selling_liabilities": "0.0000000",
            "asset_type": "native",
        }
    ]
    ledger = account["last_modified_ledger"]
    assert account["sequence"] == str(ledger << 32)
    assert account["thresholds"] == {"low_threshold": 0, "med_threshold": 0, "high_threshold": 0}
    assert account["signers"] == [
        {"weight": 1, "key": key.public_key, "type": "ed25519_public_key"}
    ]
    again = await chain.client.get(f"{chain.url}/friendbot", {"addr": key.public_key})
    assert again.status_code == 400
    assert again.json()["type"] == "https://stellar.org/horizon-errors/bad_request"


async def test_trustline_and_credit_payment_move_balances(chain):
    asset, issuer, (alice, bob) = await issued_asset(chain, holders=2)
    alice_account = await chain.account(alice)
    assert alice_account["subentry_count"] == 1
    await chain.submit(issuer, [Payment(alice.public_key, asset, "100.5")])
    result = await chain.submit(alice, [Payment(bob.public_key, asset, "40.25")])
    assert result["successful"] is True
    assert await chain.balance(alice, asset) == Decimal("60.25")
    assert await chain.balance(bob, asset) == Decimal("40.25")
    # Two transactions from alice (trust + pay), fees burnt.
    assert await chain.balance(alice) == Decimal(10000) - 2 * BASE_FEE
    # Paying back to the issuer burns the asset; the issuer needs no trustline.
    await chain.submit(bob, [Payment(issuer.public_key, asset, "40.25")])
    assert await chain.balance(bob, asset) == 0
    stats = await chain.server.assets().for_code("USD").for_issuer(issuer.public_key).call()
    (record,) = stats["_embedded"]["records"]
    assert record["accounts"]["authorized"] == 2
    assert record["balances"]["authorized"] == "60.2500000"


async def test_native_payment_records_memo_and_fee(chain):
    alice, bob = await chain.fund(2)
    result = await chain.submit(
        alice, [Payment(bob.public_key, Asset.native(), "12.3456789")], memo=TextMemo("hi bob")
    )
    assert result["memo_type"] == "text"
    assert result["memo"] == "hi bob"
    assert result["fee_charged"] == "100"
    assert await chain.balance(bob) == Decimal("10012.3456789")
    assert await chain.balance(alice) == Decimal("9987.6543211") - BASE_FEE
    tx = await chain.server.transactions().transaction(result["hash"]).call()
    assert tx["successful"] is True and tx["ledger"] == result["ledger"]
    decoded = xdr.TransactionResult.from_xdr(tx["result_xdr"])
    assert decoded.result.code == xdr.TransactionResultCode.txSUCCESS


async def test_failed_transaction_consumes_sequence_and_fee(chain):
    alice, bob, carol = await chain.fund(3)
    foreign_asset = Asset("EUR", bob.public_key)
    before = await chain.account(alice)
    envelope = await chain.build(alice, [Payment(carol.public_key, foreign_asset, "1")])
    with pytest.raises(BadRequestError) as info:
        await chain.server.submit_transaction(envelope)
    # The destination is checked first, as stellar-core does.
    assert codes(info.value) == {"transaction": "tx_failed", "operations": ["op_no_trust"]}
    result = xdr.TransactionResult.from_xdr(info.value.extras["result_xdr"])
    assert result.fee_charged.int64 == 100
    assert result.result.code == xdr.TransactionResultCode.txFAILED
    after = await chain.account(alice)
    assert int(after["sequence"]) == int(before["sequence"]) + 1
    assert Decimal(after["balances"][-1]["balance"]) == Decimal(10000) - BASE_FEE
    tx_hash = envelope.hash_hex()
    tx = await chain.server.transactions().transaction(tx_hash).call()
    assert tx["successful"] is False and tx["fee_charged"] == "100"
    listed = await chain.server.transactions().for_account(alice.public_key).call()
    assert tx_hash not in [r["hash"] for r in listed["_embedded"]["records"]]
    listed = (
        await chain.server.transactions().for_account(alice.public_key).include_failed(True).call()
    )
    assert tx_hash in [r["hash"] for r in listed["_embedded"]["records"]]
    # Resubmitting the same envelope answers the recorded failure again.
    with pytest.raises(BadRequestError) as again:
        await chain.server.submit_transaction(envelope)
    assert codes(again.value)["operations"] == ["op_no_trust"]
    # And the next sequence number is usable.
    await chain.submit(alice, [Payment(carol.public_key, Asset.native(), "1")])


async def test_payment_without_trustline_is_op_no_trust(chain):
    asset, issuer, _ = await issued_asset(chain, holders=0)
    (stranger,) = await chain.fund()
    error = await chain.submit_failing(issuer, [Payment(stranger.public_key, asset, "1")])
    assert codes(error) == {"transaction": "tx_failed", "operations": ["op_no_trust"]}
    assert (await chain.account(stranger))["balances"][0]["asset_type"] == "native"


async def test_underfunded_payments(chain):
    asset, issuer, (alice, bob) = await issued_asset(chain, holders=2)
    await chain.submit(issuer, [Payment(alice.public_key, asset, "5")])
    error = await chain.submit_failing(alice, [Payment(bob.public_key, asset, "6")])
    assert codes(error)["operations"] == ["op_underfunded"]
    # Native: the reserve (2 + 1 subentry) x 0.5 XLM cannot be spent.
    error = await chain.submit_failing(alice, [Payment(bob.public_key, Asset.native(), "9999")])
    assert codes(error)["operations"] == ["op_underfunded"]


async def test_payment_to_missing_account_is_op_no_destination(chain):
    (alice,) = await chain.fund()
    nobody = Keypair.random().public_key
    error = await chain.submit_failing(alice, [Payment(nobody, Asset.native(), "1")])
    assert codes(error)["operations"] == ["op_no_destination"]


async def test_payment_over_trust_limit_is_op_line_full(chain):
    asset, issuer, (alice,) = await issued_asset(chain, holders=1, limit="10")
    await chain.submit(issuer, [Payment(alice.public_key, asset, "10")])
    error = await chain.submit_failing(issuer, [Payment(alice.public_key, asset, "0.0000001")])
    assert codes(error)["operations"] == ["op_line_full"]


async def test_create_account_failures(chain):
    alice, bob = await chain.fund(2)
    error = await chain.submit_failing(alice, [CreateAccount(bob.public_key, "5")])
    assert codes(error)["operations"] == ["op_already_exists"]
    error = await chain.submit_failing(alice, [CreateAccount(Keypair.random().public_key, "0.9")])
    assert codes(error)["operations"] == ["op_low_reserve"]


async def test_all_operations_fail_together(chain):
    """A tx whose second op fails leaves no trace of the first one."""
    alice, bob = await chain.fund(2)
    new = Keypair.random().public_key
    error = await chain.submit_failing(
        alice,
        [
            Payment(bob.public_key, Asset.native(), "100"),
            CreateAccount(bob.public_key, "5"),
        ],
    )
    assert codes(error)["operations"] == ["op_success", "op_already_exists"]
    assert await chain.balance(bob) == Decimal(10000)
    assert new  # unused address stays unused


async def test_muxed_destination_is_recorded(chain):
    alice, bob = await chain.fund(2)
    muxed = MuxedAccount(bob.public_key, 424242)
    await chain.submit(alice, [Payment(muxed, Asset.native(), "3")])
    page = await chain.server.payments().for_account(bob.public_key).order(desc=True).call()
    payment = page["_embedded"]["records"][0]
    assert payment["type"] == "payment"
    assert payment["to"] == bob.public_key
    assert payment["to_muxed"] == muxed.account_muxed
    assert payment["to_muxed_id"] == "424242"
    assert payment["amount"] == "3.0000000"
    assert await chain.balance(bob) == Decimal(10003)


async def test_trustline_removal_and_data_entries(chain):
    asset, issuer, (alice,) = await issued_asset(chain)
    await chain.submit(issuer, [Payment(alice.public_key, asset, "1")])
    error = await chain.submit_failing(alice, [ChangeTrust(asset, "0")])
    assert codes(error)["operations"] == ["op_invalid_limit"]
    await chain.submit(alice, [Payment(issuer.public_key, asset, "1"), ChangeTrust(asset, "0")])
    await chain.submit(alice, [ManageData("config", b"\x00\x01")])
    account = await chain.account(alice)
    assert [b["asset_type"] for b in account["balances"]] == ["native"]
    assert account["data"] == {"config": "AAE="}
    assert account["subentry_count"] == 1
    error = await chain.submit_failing(alice, [ManageData("missing", None)])
    assert codes(error)["operations"] == ["op_data_name_not_found"]
