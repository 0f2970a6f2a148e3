"""Claimable balances through stellar-sdk: ids, predicates, trustlines, reserves, records."""

from __future__ import annotations

import time
from decimal import Decimal

from sandbox_helpers import balance_id_from, codes, issued_asset
from stellar_sdk import Asset, Claimant, ClaimPredicate
from stellar_sdk.operation import (
    ChangeTrust,
    ClaimClaimableBalance,
    CreateClaimableBalance,
    Payment,
)

from killick.stellar.envelopes import read_result

P = ClaimPredicate


async def test_native_balance_created_listed_and_claimed(chain):
    alice, bob = await chain.fund(2)
    result = await chain.submit(
        alice, [CreateClaimableBalance(Asset.native(), "25", [Claimant(bob.public_key)])]
    )
    balance_id = balance_id_from(result)
    assert balance_id.startswith("00000000") and len(balance_id) == 72
    assert read_result(result["result_xdr"]).claimable_balance_ids == [balance_id]

    page = await chain.server.claimable_balances().for_claimant(bob.public_key).call()
    (record,) = page["_embedded"]["records"]
    assert record["id"] == balance_id
    assert record["asset"] == "native"
    assert record["amount"] == "25.0000000"
    assert record["sponsor"] == alice.public_key
    assert record["claimants"] == [
        {"destination": bob.public_key, "predicate": {"unconditional": True}}
    ]
    assert record["flags"] == {"clawback_enabled": False}
    assert record["paging_token"] == f"{record['last_modified_ledger']}-{balance_id}"
    single = await chain.server.claimable_balances().claimable_balance(balance_id).call()
    assert single["id"] == balance_id

    # The creator sponsors the entry: one base reserve per claimant is locked.
    creator = await chain.account(alice)
    assert creator["num_sponsoring"] == 1
    ops = await chain.server.operations().for_transaction(result["hash"]).call()
    (op,) = ops["_embedded"]["records"]
    assert op["type"] == "create_claimable_balance"
    assert op["asset"] == "native" and op["amount"] == "25.0000000"
    assert op["claimants"] == record["claimants"]

    await chain.submit(bob, [ClaimClaimableBalance(balance_id)])
    assert await chain.balance(bob) == Decimal("10025") - Decimal("0.00001")
    assert (await chain.account(alice))["num_sponsoring"] == 0
    empty = await chain.server.claimable_balances().for_claimant(bob.public_key).call()
    assert empty["_embedded"]["records"] == []
    claims = await chain.server.operations().for_account(bob.public_key).order(desc=True).call()
    claim = claims["_embedded"]["records"][0]
    assert claim["type"] == "claim_claimable_balance"
    assert claim["balance_id"] == balance_id and claim["claimant"] == bob.public_key


async def test_credit_balance_needs_a_trustline_to_claim(chain):
    asset, issuer, (alice,) = await issued_asset(chain, holders=1)
    (carol,) = await chain.fund()
    await chain.submit(issuer, [Payment(alice.public_key, asset, "100")])
    result = await chain.submit(
        alice, [CreateClaimableBalance(asset, "40", [Claimant(carol.public_key)])]
    )
    balance_id = balance_id_from(result)
    assert await chain.balance(alice, asset) == Decimal(60)

    by_asset = await chain.server.claimable_balances().for_asset(asset).call()
    assert [r["id"] for r in by_asset["_embedded"]["records"]] == [balance_id]
    by_sponsor = await chain.server.claimable_balances().for_sponsor(alice.public_key).call()
    assert [r["id"] for r in by_sponsor["_embedded"]["records"]] == [balance_id]
    other = await chain.server.claimable_balances().for_asset(Asset.native()).call()
    assert other["_embedded"]["records"] == []
    stats = await chain.server.assets().for_code("USD").for_issuer(issuer.public_key).call()
    assert stats["_embedded"]["records"][0]["num_claimable_balances"] == 1

    error = await chain.submit_failing(carol, [ClaimClaimableBalance(balance_id)])
    assert codes(error)["operations"] == ["op_no_trust"]
    await chain.submit(carol, [ChangeTrust(asset), ClaimClaimableBalance(balance_id)])
    assert await chain.balance(carol, asset) == Decimal(40)


async def test_predicates_are_judged_at_close_time(chain):
    alice, bob, carol = await chain.fund(3)
    now = int(time.time())
    past, future = now - 3600, now + 3600
    claimants_by_case = {
        "expired": P.predicate_before_absolute_time(past),
        "not_yet": P.predicate_not(P.predicate_before_absolute_time(future)),
        "open_window": P.predicate_and(
            P.predicate_not(P.predicate_before_absolute_time(past)),
            P.predicate_before_relative_time(3600),
        ),
        "either": P.predicate_or(
            P.predicate_before_absolute_time(past), P.predicate_unconditional()
        ),
    }
    result = await chain.submit(
        alice,
        [
            CreateClaimableBalance(Asset.native(), "1", [Claimant(bob.public_key, predicate)])
            for predicate in claimants_by_case.values()
        ],
    )
    ids = dict(zip(claimants_by_case, (balance_id_from(result, i) for i in range(4)), strict=True))
    # The relative predicate is stored as an absolute one (creation close time + 3600).
    record = await chain.server.claimable_balances().claimable_balance(ids["open_window"]).call()
    window = record["claimants"][0]["predicate"]["and"]
    assert window[0] == {
        "not": {"abs_before": window[0]["not"]["abs_before"], "abs_before_epoch": str(past)}
    }
    assert abs(int(window[1]["abs_before_epoch"]) - (now + 3600)) <= 5
    # …while the operation record shows it as submitted.
    ops = await chain.server.operations().for_transaction(result["hash"]).call()
    assert ops["_embedded"]["records"][2]["claimants"][0]["predicate"]["and"][1] == {
        "rel_before": "3600"
    }

    for case in ("expired", "not_yet"):
        error = await chain.submit_failing(bob, [ClaimClaimableBalance(ids[case])])
        assert codes(error)["operations"] == ["op_cannot_claim"], case
    error = await chain.submit_failing(carol, [ClaimClaimableBalance(ids["either"])])
    assert codes(error)["operations"] == ["op_cannot_claim"]  # not a claimant
    await chain.submit(
        bob, [ClaimClaimableBalance(ids["open_window"]), ClaimClaimableBalance(ids["either"])]
    )
    gone = await chain.client.get(f"{chain.url}/claimable_balances/{ids['either']}")
    assert gone.status_code == 404
    missing = await chain.submit_failing(bob, [ClaimClaimableBalance(ids["either"])])
    assert codes(missing)["operations"] == ["op_does_not_exist"]


async def test_malformed_and_underfunded_balances(chain):
    alice, bob = await chain.fund(2)
    duplicate = [Claimant(bob.public_key), Claimant(bob.public_key)]
    error = await chain.submit_failing(
        alice, [CreateClaimableBalance(Asset.native(), "1", duplicate)]
    )
    assert codes(error) == {"transaction": "tx_failed", "operations": ["op_malformed"]}
    # 10,000 XLM less 1 XLM of account reserve: 9999 leaves nothing for the entry's reserve.
    error = await chain.submit_failing(
        alice, [CreateClaimableBalance(Asset.native(), "9999.5", [Claimant(bob.public_key)])]
    )
    assert codes(error)["operations"] == ["op_underfunded"]
    error = await chain.submit_failing(
        alice, [CreateClaimableBalance(Asset.native(), "9998.8", [Claimant(bob.public_key)])]
    )
    assert codes(error)["operations"] == ["op_low_reserve"]
    usd = Asset("USD", bob.public_key)
    error = await chain.submit_failing(
        alice, [CreateClaimableBalance(usd, "1", [Claimant(bob.public_key)])]
    )
    assert codes(error)["operations"] == ["op_no_trust"]
