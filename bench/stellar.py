"""Stellar scenarios on the sandbox: deposits settled per ledger close, withdrawal
payments matched per second, poll-to-paid latency, and worker memory over a backlog.

The deposit loops run as ``build_worker()`` builds them for ``killick worker`` (every
loop side by side), in the bench process; the memory scenario runs a real
``killick worker`` process, whose RSS is read from /proc.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from stellar_sdk import Account, Keypair, TransactionBuilder

from bench import procs
from bench.chain import Chain, Prepared
from bench.loadgen import percentile
from bench.profiles import Profile
from bench.seed import (
    PASSPHRASE,
    Secrets,
    bulk_insert,
    deposit_rows,
    make_settings,
    settings_env,
    withdrawal_rows,
)
from killick.context import Context
from killick.models import Event, Submission, Transaction
from killick.workers import PaymentObserver, Worker, build_worker

WALLETS = 5


def worker(context: Context, worker_id: str) -> Worker:
    """Every loop of ``killick worker``; the observer streams for 1 s at a time instead
    of 20 (nothing to observe here) so that the worker stops promptly."""
    runner = build_worker(context, worker_id)
    for loop in runner.loops:
        if isinstance(loop, PaymentObserver):
            loop.stream_seconds = 1.0
    return runner


async def stop_worker(runner: Worker, task: asyncio.Task[None], grace: float = 3.0) -> None:
    """Ask the loops to stop; cancel what still runs after ``grace`` (the observer's
    stream may be waiting for a payment; the scenario's database is thrown away)."""
    runner.stop()
    try:
        await asyncio.wait_for(asyncio.shield(task), grace)
    except TimeoutError:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def count_status(context: Context, status: str, kind: str = "deposit") -> int:
    async with context.sessions() as session:
        value = await session.scalar(
            select(func.count())
            .select_from(Transaction)
            .where(Transaction.status == status, Transaction.kind == kind)
        )
        return int(value or 0)


async def _setup(
    chain: Chain, context: Context, code: str, channels: int, wallets: int = WALLETS
) -> tuple[Prepared, list[Keypair]]:
    async with chain.hurry():
        prepared = await chain.prepare_asset(context, code, channels)
        made = await chain.wallets(prepared, wallets)
    return prepared, made


# -- deposits settled per ledger close ---------------------------------------------------------


async def settlement(
    profile: Profile, db: str, url: str, chain: Chain, keys: Secrets, channels: int
) -> dict[str, Any]:
    context = Context.build(make_settings(keys, url, chain.url))
    try:
        prepared, wallets = await _setup(chain, context, "SETL", channels)
        total = channels * profile.settle_per_close * profile.settle_closes
        await bulk_insert(
            context, deposit_rows(prepared.asset, [w.public_key for w in wallets], total)
        )
        runner = worker(context, f"bench-settle-{channels}")
        started = time.monotonic()
        task = asyncio.create_task(runner.run())
        bound = (profile.settle_closes * 3 + 4) * profile.ledger_seconds + 10
        completed = 0
        while completed < total and time.monotonic() - started < bound and not task.done():
            await asyncio.sleep(min(0.5, profile.ledger_seconds / 2))
            completed = await count_status(context, "completed")
        elapsed = time.monotonic() - started
        await stop_worker(runner, task)
        completed = await count_status(context, "completed")
        per_ledger = await _deposits_per_ledger(context)
    finally:
        await context.close()
        await context.engine.dispose()
    span = (max(per_ledger) - min(per_ledger) + 1) if per_ledger else 0
    mean = completed / span if span else 0.0
    per_channel = mean / channels
    target = 100.0
    return {
        "group": "stellar",
        "db": db,
        "scenario": f"deposits settled per close, {channels} channel(s)",
        "value": round(per_channel, 1),
        "unit": "deposits/close/channel",
        "target": target,
        "met": per_channel >= target,
        "details": {
            "seeded": total,
            "completed": completed,
            "ledgers_spanned": span,
            "per_close_mean": round(mean, 1),
            "per_close_max": max(per_ledger.values(), default=0),
            "per_ledger": dict(sorted(per_ledger.items())),
            "ledger_seconds": profile.ledger_seconds,
            "wall_seconds": round(elapsed, 2),
        },
    }


async def _deposits_per_ledger(context: Context) -> Counter[int]:
    async with context.sessions() as session:
        rows = (
            await session.execute(
                select(Submission.ledger, Submission.plan).where(
                    Submission.status == "applied", Submission.successful.is_(True)
                )
            )
        ).all()
    counts: Counter[int] = Counter()
    for ledger, plan in rows:
        if ledger is not None:
            counts[int(ledger)] += len(plan["deposits"])
    return counts


# -- withdrawal payments matched per second -------------------------------------------------------


async def _pay_backlog(
    chain: Chain, prepared: Prepared, payers: list[Keypair], memos: list[int], bound: float
) -> tuple[int, float]:
    """Each payer pays its share of ``memos``, one payment (and memo) per transaction,
    all payers in parallel, ledgers closed as fast as the sandbox goes; stops after
    ``bound`` seconds. Returns (payments made, seconds)."""
    destination = prepared.asset.distribution_account or ""
    shares = [memos[i :: len(payers)] for i in range(len(payers))]
    started = time.monotonic()
    made = 0

    async def pay_all(payer: Keypair, share: Iterable[int]) -> None:
        nonlocal made
        account = Account(payer.public_key, await chain.sequence(payer.public_key))
        async with chain.own_client() as client:
            for memo in share:
                if time.monotonic() - started > bound:
                    return
                envelope = (
                    TransactionBuilder(account, PASSPHRASE, 100)
                    .append_payment_op(destination, prepared.stellar_asset, "1")
                    .add_id_memo(memo)
                    .set_timeout(600)
                    .build()
                )
                envelope.sign(payer)
                await chain.submit(envelope.to_xdr(), client=client)
                made += 1

    async with chain.hurry(every=0.01):
        await asyncio.gather(*(pay_all(p, s) for p, s in zip(payers, shares, strict=True)))
    return made, time.monotonic() - started


async def withdrawals(
    profile: Profile, db: str, url: str, chain: Chain, keys: Secrets
) -> dict[str, Any]:
    context = Context.build(make_settings(keys, url, chain.url))
    try:
        prepared, payers = await _setup(chain, context, "WDRL", 0, profile.payers)
        count = profile.withdrawals
        async with chain.hurry():
            await chain.pay_out(prepared, payers, str(count // profile.payers + 10))
        memos = list(range(1, count + 1))
        await bulk_insert(context, withdrawal_rows(prepared.asset, memos))
        made, build_seconds = await _pay_backlog(
            chain, prepared, payers, memos, profile.backlog_build_bound
        )
        print(f"  [{db}] backlog of {made} payments built in {build_seconds:.1f}s", flush=True)
        observer = PaymentObserver(context, "bench-observer")
        accounts = await observer._lease_accounts()
        started = time.monotonic()
        seen = 0
        for account in accounts:
            while (page := await observer.catch_up(account)) > 0:
                seen += page
        elapsed = time.monotonic() - started
        await observer._release(accounts)
        matched = await count_status(context, "pending_anchor", kind="withdrawal")
    finally:
        await context.close()
        await context.engine.dispose()
    rate = matched / elapsed if elapsed else 0.0
    return {
        "group": "stellar",
        "db": db,
        "scenario": f"withdrawal payments matched, backlog {made}",
        "value": round(rate, 1),
        "unit": "payments/s",
        "target": 2000.0,
        "met": rate >= 2000.0 and matched == made,
        "details": {
            "backlog": made,
            "backlog_wanted": count,
            "matched": matched,
            "records_read": seen,
            "seconds": round(elapsed, 2),
            "backlog_build_seconds": round(build_seconds, 1),
        },
    }


# -- from poll_pending_deposits to the payment applied ---------------------------------------


async def latency(
    profile: Profile, db: str, url: str, chain: Chain, keys: Secrets, channels: int = 10
) -> dict[str, Any]:
    context = Context.build(make_settings(keys, url, chain.url))
    try:
        prepared, wallets = await _setup(chain, context, "LATE", channels)
        addresses = [w.public_key for w in wallets]
        runner = worker(context, "bench-latency")
        task = asyncio.create_task(runner.run())
        fed = 0
        tick = 0.1
        per_tick = max(1, round(profile.latency_rate * tick))
        started = time.monotonic()
        while time.monotonic() - started < profile.latency_seconds:
            await bulk_insert(
                context,
                deposit_rows(prepared.asset, addresses, per_tick, "pending_user_transfer_start"),
            )
            fed += per_tick
            await asyncio.sleep(tick)
        bound = time.monotonic() + 4 * profile.ledger_seconds + 15
        while time.monotonic() < bound:  # polling the database: nothing to wait on here
            if await count_status(context, "completed") >= fed:
                break
            await asyncio.sleep(0.2)
        await stop_worker(runner, task)
        waits = await _poll_to_paid(context)
    finally:
        await context.close()
        await context.engine.dispose()
    waits.sort()
    return {
        "group": "stellar",
        "db": db,
        "scenario": "poll_pending_deposits to payment applied",
        "value": round(percentile(waits, 0.5), 3),
        "unit": "s (p50)",
        "p50_ms": round(percentile(waits, 0.5) * 1000, 1),
        "p99_ms": round(percentile(waits, 0.99) * 1000, 1),
        "target": None,
        "met": None,
        "details": {
            "deposits": fed,
            "paid": len(waits),
            "rate_per_second": profile.latency_rate,
            "ledger_seconds": profile.ledger_seconds,
            "channels": channels,
            "rails": "killick.workers.deposits_poll",
        },
    }


async def _poll_to_paid(context: Context) -> list[float]:
    async with context.sessions() as session:
        rows = (
            await session.execute(
                select(Event.transaction_id, Event.to_status, Event.created_at).where(
                    Event.to_status.in_(("pending_anchor", "completed"))
                )
            )
        ).all()
    moved: dict[str, Any] = {}
    paid: dict[str, Any] = {}
    for transaction_id, status, at in rows:
        (moved if status == "pending_anchor" else paid)[transaction_id] = at
    return [(paid[t] - moved[t]).total_seconds() for t in paid if t in moved]


# -- worker memory over a big backlog -------------------------------------------------------------


async def memory(
    profile: Profile,
    db: str,
    url: str,
    chain: Chain,
    keys: Secrets,
    workdir: Path,
    channels: int = 10,
) -> dict[str, Any]:
    """A ``killick worker`` process draining ``memory_backlog`` deposits: RSS sampled."""
    context = Context.build(make_settings(keys, url, chain.url))
    try:
        prepared, wallets = await _setup(chain, context, "MEMO", channels)
        status = "pending_user_transfer_start"
        backlog = profile.memory_backlog
        await bulk_insert(
            context, deposit_rows(prepared.asset, [w.public_key for w in wallets], backlog, status)
        )
        env = procs.child_env(settings_env(keys, url, chain.url))
        samples: list[tuple[float, int]] = []
        with procs.python(["-m", "killick", "worker"], env, workdir, f"worker-{db}.log") as proc:
            started = time.monotonic()
            while (elapsed := time.monotonic() - started) < profile.memory_seconds:
                if proc.poll() is not None:
                    raise RuntimeError(f"killick worker exited ({proc.returncode}); see its log")
                samples.append((elapsed, procs.memory_kb(proc.pid, "VmRSS")))
                await asyncio.sleep(0.5 if profile.memory_seconds > 5 else 0.1)
            peak = procs.memory_kb(proc.pid, "VmHWM")
        drained = await count_status(context, "completed")
    finally:
        await context.close()
        await context.engine.dispose()
    steady = [kb for at, kb in samples if at >= profile.memory_seconds / 4] or [0]
    growth_mb = (steady[-1] - steady[0]) / 1024
    flat = growth_mb <= max(5.0, steady[0] / 1024 * 0.05)
    return {
        "group": "memory",
        "db": db,
        "scenario": f"worker RSS draining a backlog of {backlog}",
        "value": round(max(kb for _, kb in samples) / 1024, 1) if samples else 0.0,
        "unit": "MB (max RSS)",
        "target": None,
        "met": flat,
        "details": {
            "backlog": backlog,
            "drained": drained,
            "seconds": profile.memory_seconds,
            "rss_after_warmup_mb": round(steady[0] / 1024, 1),
            "rss_at_end_mb": round(steady[-1] / 1024, 1),
            "growth_after_warmup_mb": round(growth_mb, 1),
            "peak_rss_mb": round(peak / 1024, 1),
            "flat": flat,
            "path": "poll_pending_deposits loop, then settlement",
            "samples_mb": [round(kb / 1024, 1) for _, kb in samples[:: max(1, len(samples) // 20)]],
        },
    }
