"""Paying deposits on the sandbox: batched, exactly once, through every fault it injects."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from sqlalchemy import select

from killick.models import Event, Submission
from killick.workers.settlement import Settlement
from tests.stellar_support import (
    add_deposit,
    balance,
    new_wallet,
    payments_received,
    status_of,
    stellar_env,
)


async def drain(settlement: Settlement, rounds: int = 40) -> None:
    """Run the loop until nothing is left to do (bounded)."""
    for _ in range(rounds):
        if await settlement.run_once() == 0:
            async with settlement.context.sessions() as session:
                pending = (
                    await session.scalars(select(Submission).where(Submission.status == "pending"))
                ).all()
            if not pending:
                return
            await asyncio.sleep(0.1)
    raise AssertionError("settlement did not finish")


async def test_a_batch_is_paid_in_one_transaction_exactly(database_url, engine) -> None:
    async with stellar_env(database_url, engine) as env:
        wallets = [await new_wallet(env) for _ in range(5)]
        ids = [
            await add_deposit(env, w.public_key, f"{i + 1}.0000001") for i, w in enumerate(wallets)
        ]
        await drain(Settlement(env.context, "worker-a"))
        hashes = set()
        for i, (wallet, deposit_id) in enumerate(zip(wallets, ids, strict=True)):
            deposit = await status_of(env, deposit_id)
            assert deposit.status == "completed"
            assert deposit.completed_at is not None
            hashes.add(deposit.stellar_transaction_id)
            assert await balance(env, wallet.public_key) == Decimal(f"{i + 1}.0000001")
            assert len(await payments_received(env, wallet.public_key)) == 1
        assert len(hashes) == 1  # one Stellar transaction for the whole batch
        async with env.context.sessions() as session:
            statuses = [
                e.to_status
                for e in (
                    await session.scalars(
                        select(Event).where(Event.transaction_id == ids[0]).order_by(Event.id)
                    )
                ).all()
            ]
        assert statuses == ["pending_stellar", "completed"]


async def test_memo_deposits_travel_alone_with_their_memo(database_url, engine) -> None:
    async with stellar_env(database_url, engine) as env:
        wallet = await new_wallet(env)
        first = await add_deposit(
            env, wallet.public_key, "5", deposit_memo="12345", deposit_memo_type="id"
        )
        second = await add_deposit(
            env, wallet.public_key, "6", deposit_memo="hello", deposit_memo_type="text"
        )
        await drain(Settlement(env.context, "worker-a"))
        a, b = await status_of(env, first), await status_of(env, second)
        assert a.status == b.status == "completed"
        assert a.stellar_transaction_id != b.stellar_transaction_id
        tx = await env.horizon.transactions().transaction(a.stellar_transaction_id).call()
        assert (tx["memo_type"], tx["memo"]) == ("id", "12345")
        assert await balance(env, wallet.public_key) == Decimal("11")


async def test_no_trustline_waits_in_pending_trust_then_pays(database_url, engine) -> None:
    async with stellar_env(database_url, engine) as env:
        wallet = await new_wallet(env, trust=False)
        deposit_id = await add_deposit(env, wallet.public_key, "3")
        settlement = Settlement(env.context, "worker-a")
        await drain(settlement)
        assert (await status_of(env, deposit_id)).status == "pending_trust"
        from stellar_sdk import TransactionBuilder

        from killick.workers.trust import TrustWatch
        from tests.stellar_support import PASSPHRASE

        source = await env.horizon.load_account(wallet.public_key)
        tx = (
            TransactionBuilder(source, PASSPHRASE, 100)
            .append_change_trust_op(env.stellar_asset)
            .set_timeout(60)
            .build()
        )
        tx.sign(wallet)
        await env.horizon.submit_transaction(tx)
        assert await TrustWatch(env.context, "worker-a").run_once() == 1
        await drain(settlement)
        assert (await status_of(env, deposit_id)).status == "completed"
        assert await balance(env, wallet.public_key) == Decimal("3")


async def test_missing_account_is_created_then_waits_for_trust(database_url, engine) -> None:
    async with stellar_env(database_url, engine) as env:
        wallet = await new_wallet(env, fund=False)
        deposit_id = await add_deposit(env, wallet.public_key, "3")
        await drain(Settlement(env.context, "worker-a"))
        deposit = await status_of(env, deposit_id)
        assert deposit.status == "pending_trust"
        record = await env.horizon.accounts().account_id(wallet.public_key).call()
        assert Decimal(record["balances"][-1]["balance"]) == Decimal("2.01")


async def test_a_full_line_is_set_aside_and_the_rest_paid(database_url, engine) -> None:
    async with stellar_env(database_url, engine) as env:
        good = await new_wallet(env)
        full = await new_wallet(env, limit="1")
        paid = await add_deposit(env, good.public_key, "2")
        blocked = await add_deposit(env, full.public_key, "2")
        await drain(Settlement(env.context, "worker-a"))
        assert (await status_of(env, paid)).status == "completed"
        assert (await status_of(env, blocked)).status == "pending_trust"
        assert await balance(env, full.public_key) == 0
        assert len(await payments_received(env, good.public_key)) == 1


async def test_claimable_balance_when_the_wallet_opted_in(database_url, engine) -> None:
    async with stellar_env(database_url, engine) as env:
        no_trust = await new_wallet(env, trust=False)
        no_account = await new_wallet(env, fund=False)
        first = await add_deposit(env, no_trust.public_key, "4", claimable_balance_supported=True)
        second = await add_deposit(
            env, no_account.public_key, "5", claimable_balance_supported=True
        )
        await drain(Settlement(env.context, "worker-a"))
        for deposit_id, wallet, amount in ((first, no_trust, "4"), (second, no_account, "5")):
            deposit = await status_of(env, deposit_id)
            assert deposit.status == "completed"  # never through pending_trust (P-22)
            assert deposit.claimable_balance_id
            balances = (
                await env.horizon.claimable_balances().for_claimant(wallet.public_key).call()
            )["_embedded"]["records"]
            assert [b["id"] for b in balances] == [deposit.claimable_balance_id]
            assert Decimal(balances[0]["amount"]) == Decimal(amount)


async def test_a_new_batch_takes_a_free_channel_while_another_waits_for_its_ledger(
    database_url, engine
) -> None:
    """As ``killick worker`` runs it: a pass returns once its envelopes are saved, so a
    deposit that arrives meanwhile goes into the same ledger on another channel."""
    async with stellar_env(database_url, engine, channels=2) as env:
        wallets = [await new_wallet(env) for _ in range(2)]
        env.network.config.ledger_seconds = 3600  # from now on, ledgers close when told
        await asyncio.sleep(0.2)  # the close already under way happens first
        settlement = Settlement(env.context, "worker-a", background=True)
        first = await add_deposit(env, wallets[0].public_key, "1")
        assert await settlement.run_once() == 1
        second = await add_deposit(env, wallets[1].public_key, "2")
        assert await settlement.run_once() == 1
        for _ in range(100):  # both envelopes saved and submitted, none applied
            async with env.context.sessions() as session:
                pending = (
                    await session.scalars(select(Submission).where(Submission.status == "pending"))
                ).all()
            if len(pending) == 2:
                break
            await asyncio.sleep(0.05)
        assert len({s.source_account for s in pending}) == 2
        assert {(await status_of(env, i)).status for i in (first, second)} == {"pending_stellar"}
        await env.network.close_ledger()
        await settlement.aclose()  # the batches in flight hear their answer and finish
        paid = [await status_of(env, i) for i in (first, second)]
        assert [p.status for p in paid] == ["completed", "completed"]
        assert paid[0].stellar_transaction_id != paid[1].stellar_transaction_id
        assert await balance(env, wallets[0].public_key) == Decimal("1")
        assert await balance(env, wallets[1].public_key) == Decimal("2")
        async with env.context.sessions() as session:
            applied = (await session.scalars(select(Submission))).all()
        assert [s.status for s in applied] == ["applied", "applied"]
        assert len({s.ledger for s in applied}) == 1  # both in the one ledger that closed
