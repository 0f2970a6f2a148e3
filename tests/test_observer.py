"""Withdrawal payments on the sandbox: all matched, none twice, the rest kept as unmatched."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from sqlalchemy import select
from stellar_sdk import Asset as StellarAsset
from stellar_sdk import Keypair

from killick.models import StellarCursor, UnmatchedPayment
from killick.stellar.horizon_client import HttpxAsyncClient
from killick.stellar.issue_asset import issue_asset
from killick.workers.observer import PaymentObserver
from tests.stellar_support import (
    PASSPHRASE,
    StellarEnv,
    add_withdrawal,
    fund_with_asset,
    new_wallet,
    pay,
    status_of,
    stellar_env,
)


async def unmatched(env: StellarEnv) -> list[UnmatchedPayment]:
    async with env.context.sessions() as session:
        return list(
            (await session.scalars(select(UnmatchedPayment).order_by(UnmatchedPayment.id))).all()
        )


async def observe(env: StellarEnv, observer: PaymentObserver | None = None) -> None:
    observer = observer or PaymentObserver(env.context, "worker-a", stream_seconds=0.3)
    for account in await observer._lease_accounts():
        await observer.catch_up(account)
    await observer._release([env.asset.distribution_account])


async def wallet_with_funds(env: StellarEnv, amount: str = "500") -> Keypair:
    wallet = await new_wallet(env)
    await fund_with_asset(env, wallet, amount)
    return wallet


async def test_payments_made_while_the_worker_was_down_are_all_matched(
    database_url, engine
) -> None:
    async with stellar_env(database_url, engine) as env:
        wallet = await wallet_with_funds(env)
        ids = [await add_withdrawal(env, str(1000 + i), "10") for i in range(4)]
        hashes = [
            await pay(env, wallet, env.asset.distribution_account, "10", memo_id=1000 + i)
            for i in range(4)
        ]
        await observe(env)
        for withdrawal_id, tx_hash in zip(ids, hashes, strict=True):
            withdrawal = await status_of(env, withdrawal_id)
            assert withdrawal.status == "pending_anchor"
            assert withdrawal.amount_in == Decimal("10")
            assert withdrawal.amount_out == Decimal("10")
            assert withdrawal.stellar_transaction_id == tx_hash
            assert withdrawal.from_address == wallet.public_key
        # The funding payment from the distribution account is outgoing: not recorded.
        assert await unmatched(env) == []
        await observe(env)  # reading again changes nothing
        assert await unmatched(env) == []


async def test_what_matches_nothing_is_kept(database_url, engine) -> None:
    async with stellar_env(database_url, engine) as env:
        wallet = await wallet_with_funds(env)
        used = await add_withdrawal(env, "77", "10")
        distribution = env.asset.distribution_account
        await pay(env, wallet, distribution, "10", memo_id=77)
        await pay(env, wallet, distribution, "10", memo_id=77)  # a second payment, same memo
        await pay(env, wallet, distribution, "3", memo_id=999)  # unknown memo
        await pay(env, wallet, distribution, "4")  # no memo
        # The same code from another issuer, with a valid memo.
        other = await issue_asset(env.url, PASSPHRASE, "USDK", client=HttpxAsyncClient())
        fake = StellarAsset("USDK", other.issuer_public_key)
        waiting = await add_withdrawal(env, "78", "5")
        from stellar_sdk import TransactionBuilder

        source = await env.horizon.load_account(wallet.public_key)
        trust = TransactionBuilder(source, PASSPHRASE, 100).append_change_trust_op(fake)
        tx = trust.set_timeout(60).build()
        tx.sign(wallet)
        await env.horizon.submit_transaction(tx)
        issuer = Keypair.from_secret(other.distribution_secret)
        source = await env.horizon.load_account(issuer.public_key)
        tx = (
            TransactionBuilder(source, PASSPHRASE, 100)
            .append_payment_op(wallet.public_key, fake, "50")
            .set_timeout(60)
            .build()
        )
        tx.sign(issuer)
        await env.horizon.submit_transaction(tx)
        # Our distribution account trusts that asset too, so the payment can arrive.
        async with env.context.sessions() as session:
            from killick.models import Asset

            seed = (await session.get(Asset, env.asset.id)).distribution_seed(env.context.cipher)
        ours = Keypair.from_secret(seed)
        source = await env.horizon.load_account(ours.public_key)
        tx = (
            TransactionBuilder(source, PASSPHRASE, 100)
            .append_change_trust_op(fake)
            .set_timeout(60)
            .build()
        )
        tx.sign(ours)
        await env.horizon.submit_transaction(tx)
        await pay(env, wallet, distribution, "5", memo_id=78, asset=fake)

        await observe(env)
        assert (await status_of(env, used)).status == "pending_anchor"
        assert (await status_of(env, waiting)).status == "pending_user_transfer_start"
        kept = await unmatched(env)
        reasons = [k.reason for k in kept]
        assert len(kept) == 4
        assert "withdrawal is pending_anchor, not waiting" in reasons
        assert reasons.count("no withdrawal has this memo") == 2
        assert any(r.startswith("wrong asset") for r in reasons)
        assert {k.amount for k in kept} == {Decimal("10"), Decimal("3"), Decimal("4"), Decimal("5")}
        assert all(k.from_address == wallet.public_key for k in kept)


async def test_amount_tolerance(database_url, engine) -> None:
    async with stellar_env(database_url, engine) as env:
        wallet = await wallet_with_funds(env)
        close = await add_withdrawal(env, "1", "100")
        small = await add_withdrawal(env, "2", "100")
        large = await add_withdrawal(env, "3", "100")
        distribution = env.asset.distribution_account
        await pay(env, wallet, distribution, "95", memo_id=1)
        await pay(env, wallet, distribution, "50", memo_id=2)
        await pay(env, wallet, distribution, "111", memo_id=3)
        await observe(env)
        accepted = await status_of(env, close)
        assert accepted.status == "pending_anchor" and accepted.amount_in == Decimal("95")
        assert (await status_of(env, small)).status == "too_small"
        assert (await status_of(env, large)).status == "too_large"
        refunds_due = [k for k in await unmatched(env) if "refund due" in k.reason]
        assert {k.amount for k in refunds_due} == {Decimal("50"), Decimal("111")}


async def test_streaming_through_dropped_streams_misses_nothing(database_url, engine) -> None:
    async with stellar_env(database_url, engine) as env:
        wallet = await wallet_with_funds(env)
        count = 8
        ids = [await add_withdrawal(env, str(500 + i), "1") for i in range(count)]
        observer = PaymentObserver(env.context, "worker-a", stream_seconds=1.0)
        await observe(env, observer)  # caught up: the next payments arrive by stream
        env.network.faults.close_streams_after(2)

        async def watch() -> None:
            while True:
                await observer.run_once()
                await asyncio.sleep(0.05)

        task = asyncio.create_task(watch())
        try:
            for i in range(count):
                await pay(env, wallet, env.asset.distribution_account, "1", memo_id=500 + i)
            for _ in range(100):
                statuses = {(await status_of(env, i)).status for i in ids}
                if statuses == {"pending_anchor"}:
                    break
                await asyncio.sleep(0.1)
        finally:
            task.cancel()
        assert statuses == {"pending_anchor"}
        assert await unmatched(env) == []
        async with env.context.sessions() as session:
            cursor = await session.get(StellarCursor, env.asset.distribution_account)
        assert cursor is not None and cursor.cursor != "0"
