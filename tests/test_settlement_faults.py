"""Horizon misbehaves: every deposit is still paid exactly once."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from killick.models import Submission
from killick.workers.settlement import Settlement
from tests.stellar_support import (
    StellarEnv,
    add_deposit,
    balance,
    new_wallet,
    payments_received,
    status_of,
    stellar_env,
)


async def settle_until_done(
    env: StellarEnv, settlement: Settlement, ids: list[str], seconds: float = 30
) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    statuses: set[str] = set()
    while asyncio.get_running_loop().time() < deadline:
        await settlement.run_once()
        statuses = {(await status_of(env, i)).status for i in ids}
        if statuses == {"completed"}:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"not completed in time: {statuses}")


def make(env: StellarEnv) -> Settlement:
    settlement = Settlement(env.context, "worker-a")
    settlement.resubmit_after = timedelta(0)
    return settlement


async def assert_paid_once(env, wallets, amount: str) -> None:
    for wallet in wallets:
        assert len(await payments_received(env, wallet.public_key)) == 1
        assert await balance(env, wallet.public_key) == Decimal(amount)


async def test_timeout_after_applying_is_resolved_by_hash(database_url, engine) -> None:
    async with stellar_env(database_url, engine) as env:
        wallets = [await new_wallet(env) for _ in range(3)]
        ids = [await add_deposit(env, w.public_key, "4") for w in wallets]
        env.network.faults.fail_next_submissions_with_timeout(1)
        await settle_until_done(env, make(env), ids)
        await assert_paid_once(env, wallets, "4")
        async with env.context.sessions() as session:
            submissions = (await session.scalars(select(Submission))).all()
        assert [s.status for s in submissions] == ["applied"]


async def test_bad_seq_once_resubmits_the_same_envelope(database_url, engine) -> None:
    async with stellar_env(database_url, engine) as env:
        wallet = await new_wallet(env)
        ids = [await add_deposit(env, wallet.public_key, "2")]
        env.network.faults.fail_next_submissions_with_bad_seq(1)
        await settle_until_done(env, make(env), ids)
        await assert_paid_once(env, [wallet], "2")
        async with env.context.sessions() as session:
            [submission] = (await session.scalars(select(Submission))).all()
        assert submission.submit_attempts >= 2  # the same envelope, not a rebuilt one


async def test_unavailable_for_a_while(database_url, engine) -> None:
    async with stellar_env(database_url, engine) as env:
        wallet = await new_wallet(env)
        ids = [await add_deposit(env, wallet.public_key, "3")]
        env.network.faults.make_unavailable(seconds=1.0)
        await settle_until_done(env, make(env), ids)
        await assert_paid_once(env, [wallet], "3")


async def test_read_lag_longer_than_the_time_bound_never_pays_twice(database_url, engine) -> None:
    async with stellar_env(database_url, engine, SUBMISSION_TIME_BOUND_SECONDS=2) as env:
        wallet = await new_wallet(env)
        ids = [await add_deposit(env, wallet.public_key, "7")]
        # Applied, but the answer is lost, and every read is 60 ledgers (3 s) behind.
        env.network.faults.fail_next_submissions_with_timeout(1)
        env.network.faults.lag(60)
        settlement = make(env)
        await settlement.run_once()
        for _ in range(30):  # 3 s of resolving while reads are stale
            await settlement.resolve_outstanding()
            await asyncio.sleep(0.1)
        env.network.faults.reset("lag_ledgers")
        await settle_until_done(env, settlement, ids)
        await assert_paid_once(env, [wallet], "7")
        async with env.context.sessions() as session:
            statuses = [s.status for s in (await session.scalars(select(Submission))).all()]
        assert statuses == ["applied"]  # never abandoned, never rebuilt


async def test_expired_unapplied_envelope_is_rebuilt_once(database_url, engine) -> None:
    async with stellar_env(database_url, engine, SUBMISSION_TIME_BOUND_SECONDS=2) as env:
        wallet = await new_wallet(env)
        ids = [await add_deposit(env, wallet.public_key, "5")]
        # Submissions are refused unapplied (reads work) until the time bound has passed.
        env.network.faults.fail_next_submissions_with_bad_seq(10_000)
        settlement = make(env)
        for _ in range(30):
            await settlement.run_once()
            await asyncio.sleep(0.1)
        env.network.faults.reset("bad_seq")
        await settle_until_done(env, settlement, ids)
        await assert_paid_once(env, [wallet], "5")
        async with env.context.sessions() as session:
            statuses = [s.status for s in (await session.scalars(select(Submission))).all()]
        assert statuses.count("applied") == 1
        assert statuses.count("abandoned") >= 1
        assert set(statuses) == {"applied", "abandoned"}
