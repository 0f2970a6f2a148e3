"""SIGKILL the worker process at the worst moments: every deposit is still paid once."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from killick.models import Submission
from tests.helpers import JWT_KEY, SIGNING
from tests.stellar_support import (
    StellarEnv,
    add_deposit,
    balance,
    new_wallet,
    payments_received,
    status_of,
    stellar_env,
)


async def start_worker(env: StellarEnv, database_url: str, workdir: Path, name: str):
    environment = {
        "PATH": os.environ["PATH"],
        "DATABASE_URL": database_url,
        "HORIZON_URI": env.url,
        "SIGNING_SEED": SIGNING.secret,
        "SERVER_JWT_KEY": JWT_KEY,
        "LOCAL_MODE": "1",
        "WORKER_POLL_SECONDS": "0.1",
        "SUBMISSION_TIME_BOUND_SECONDS": "3",
        "WORKER_LEASE_SECONDS": "5",  # a dead worker's leases run out quickly
    }
    log = open(workdir / f"{name}.log", "wb")  # noqa: ASYNC230
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "killick",
        "worker",
        cwd=workdir,
        env=environment,
        stdout=log,
        stderr=log,
    )


async def wait_for(predicate, seconds: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not reached in time")


async def submissions(env: StellarEnv) -> list[Submission]:
    async with env.context.sessions() as session:
        return list((await session.scalars(select(Submission))).all())


async def all_completed(env: StellarEnv, ids: list[str]) -> bool:
    return all([(await status_of(env, i)).status == "completed" for i in ids])


async def kill(process) -> None:
    process.send_signal(signal.SIGKILL)
    await process.wait()


async def test_killed_with_a_saved_unapplied_envelope(database_url, engine, tmp_path) -> None:
    async with stellar_env(database_url, engine) as env:
        wallets = [await new_wallet(env) for _ in range(3)]
        ids = [await add_deposit(env, w.public_key, "9") for w in wallets]
        env.network.faults.fail_next_submissions_with_bad_seq(10_000)  # never applied
        worker = await start_worker(env, database_url, tmp_path, "first")
        try:
            await wait_for(lambda: _has_submission(env))
        finally:
            await kill(worker)
        env.network.faults.reset("bad_seq")
        worker = await start_worker(env, database_url, tmp_path, "second")
        try:
            await wait_for(lambda: all_completed(env, ids))
        finally:
            await kill(worker)
        for wallet in wallets:
            assert len(await payments_received(env, wallet.public_key)) == 1
            assert await balance(env, wallet.public_key) == Decimal("9")


async def test_killed_after_applying_before_recording(database_url, engine, tmp_path) -> None:
    async with stellar_env(database_url, engine) as env:
        wallets = [await new_wallet(env) for _ in range(3)]
        ids = [await add_deposit(env, w.public_key, "6") for w in wallets]
        # The envelope is applied, the answer lost, and reads lag so the worker cannot
        # see it: it is killed knowing nothing.
        env.network.faults.fail_next_submissions_with_timeout(1)
        env.network.faults.lag(100)  # 5 s behind
        worker = await start_worker(env, database_url, tmp_path, "first")
        try:
            await wait_for(lambda: _has_submission(env))
            await asyncio.sleep(0.5)
        finally:
            await kill(worker)
        env.network.faults.reset("lag_ledgers")
        worker = await start_worker(env, database_url, tmp_path, "second")
        try:
            await wait_for(lambda: all_completed(env, ids))
        finally:
            await kill(worker)
        for wallet in wallets:
            assert len(await payments_received(env, wallet.public_key)) == 1
            assert await balance(env, wallet.public_key) == Decimal("6")
        # Exactly one envelope succeeded. (With reads lagging from the start, the first
        # worker may also have planned account creations that then failed harmlessly.)
        assert len([s for s in await submissions(env) if s.successful]) == 1


async def _has_submission(env: StellarEnv) -> bool:
    return bool(await submissions(env))


async def test_two_workers_on_postgresql_pay_each_deposit_once(
    database_url, engine, tmp_path
) -> None:
    if not database_url.startswith("postgresql"):
        import pytest

        pytest.skip("several worker processes need PostgreSQL (SQLite runs one worker)")
    async with stellar_env(database_url, engine, channels=4) as env:
        wallets = [await new_wallet(env) for _ in range(20)]
        ids = [
            await add_deposit(env, wallet.public_key, "1.5")
            for wallet in wallets
            for _ in range(10)
        ]
        first = await start_worker(env, database_url, tmp_path, "first")
        second = await start_worker(env, database_url, tmp_path, "second")
        try:
            await wait_for(lambda: all_completed(env, ids), seconds=90)
        finally:
            await kill(first)
            await kill(second)
        for wallet in wallets:
            assert len(await payments_received(env, wallet.public_key)) == 10
            assert await balance(env, wallet.public_key) == Decimal("15")
        paid_in = [
            deposit_id
            for submission in await submissions(env)
            if submission.successful
            for deposit_id in submission.plan["deposits"]
        ]
        assert sorted(paid_in) == sorted(ids)  # each deposit in exactly one applied envelope
