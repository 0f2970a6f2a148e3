"""Stellar scenarios on the sandbox: deposits settled per ledger close, withdrawal
payments matched per second, poll-to-paid latency, and worker memory over a backlog.

The deposit loops run as ``build_worker()`` builds them for ``killick worker`` (every
loop side by side), in the bench process; the memory scenario runs a real
``killick worker`` process, whose RSS is read from /proc.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
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


async def deposit_counts(context: Context) -> dict[str, int]:
    """Deposits per status: how far the worker got with the backlog."""
    async with context.sessions() as session:
        rows = await session.execute(
            select(Transaction.status, func.count())
            .where(Transaction.kind == "deposit")
            .group_by(Transaction.status)
        )
        return {status: int(count) for status, count in rows.all()}


async def memory(
    profile: Profile,
    db: str,
    url: str,
    chain: Chain,
    keys: Secrets,
    workdir: Path,
    channels: int = 10,
) -> dict[str, Any]:
    """A ``killick worker`` process draining ``memory_backlog`` deposits. Its RSS is read
    every 0.5 s and, every ~5 s, recorded with the work done so far (deposits handed to
    the rails hook, deposits paid): growth is judged against work, not only time."""
    context = Context.build(make_settings(keys, url, chain.url))
    try:
        prepared, wallets = await _setup(chain, context, "MEMO", channels)
        waiting = "pending_user_transfer_start"
        backlog = profile.memory_backlog
        await bulk_insert(
            context, deposit_rows(prepared.asset, [w.public_key for w in wallets], backlog, waiting)
        )
        env = procs.child_env(settings_env(keys, url, chain.url))
        trace: list[tuple[float, float, int, int]] = []  # (seconds, RSS MB, polled, paid)
        highest = 0.0
        tick = 0.5 if profile.memory_seconds > 5 else 0.1
        every = max(1, round(5.0 / tick))  # a GROUP BY over the backlog: not every tick

        async def record(at: float, rss_mb: float) -> None:
            counts = await deposit_counts(context)
            polled = backlog - counts.get(waiting, 0)
            trace.append((round(at, 1), round(rss_mb, 1), polled, counts.get("completed", 0)))

        with procs.python(["-m", "killick", "worker"], env, workdir, f"worker-{db}.log") as proc:
            started = time.monotonic()
            ticks = 0
            while (elapsed := time.monotonic() - started) < profile.memory_seconds:
                if proc.poll() is not None:
                    raise RuntimeError(f"killick worker exited ({proc.returncode}); see its log")
                rss_mb = procs.memory_kb(proc.pid, "VmRSS") / 1024
                highest = max(highest, rss_mb)
                if ticks % every == 0:
                    await record(elapsed, rss_mb)
                ticks += 1
                await asyncio.sleep(tick)
            await record(time.monotonic() - started, procs.memory_kb(proc.pid, "VmRSS") / 1024)
            peak = procs.memory_kb(proc.pid, "VmHWM")
    finally:
        await context.close()
        await context.engine.dispose()
    verdict = memory_verdict(trace)
    return {
        "group": "memory",
        "db": db,
        "scenario": f"worker RSS draining a backlog of {backlog}",
        "value": round(highest, 1),
        "unit": "MB (max RSS)",
        "target": None,
        "met": verdict["flat"],
        "details": {
            "backlog": backlog,
            "polled": trace[-1][2],
            "drained": trace[-1][3],
            "seconds": profile.memory_seconds,
            **verdict,
            "peak_rss_mb": round(peak / 1024, 1),
            # glibc's malloc keeps an arena per thread; MALLOC_ARENA_MAX bounds them
            "malloc_arena_max": env.get("MALLOC_ARENA_MAX"),
            "path": "poll_pending_deposits loop, then settlement",
            "trace_s_mb_polled_paid": [list(t) for t in trace[:: max(1, len(trace) // 40)]],
        },
    }


def memory_verdict(
    trace: list[tuple[float, float, int, int]], min_work: int = 1000, window: int = 5
) -> dict[str, Any]:
    """Whether the worker's RSS stayed flat, judged against the work it did.

    Work is deposits handed to the rails hook plus deposits paid. The first half of the
    work done is warm-up (SQLAlchemy's compiled cache, the connection pools, SQLite's
    page caches, the allocator's arenas filling); the second half is measured. RSS is
    read as the median of ``window`` samples (~25 s), so one transient peak or dip
    decides nothing. Flat: the second half added at most max(5 MB, 5 %). When it did not,
    the MB per 10,000 deposits of each half tell the shapes apart: a leak keeps its rate,
    warm-up slows down. Too little work (a stalled worker is trivially flat): None.
    """
    working = [t for t in trace if t[2] + t[3] > 0]  # from the first page handed over
    if len(working) < 2 * window:
        return {"flat": None, "shape": "too few samples with work done"}
    mbs = [mb for _, mb, _, _ in working]
    works = [polled + paid for _, _, polled, paid in working]

    def level(i: int) -> float:
        return statistics.median(mbs[max(0, i - window // 2) : i + window // 2 + 1])

    work = works[-1]
    half = next(i for i, w in enumerate(works) if w >= work / 2)
    start_mb, half_mb = level(0), level(half)
    end_mb = statistics.median(mbs[-window:])
    growth = end_mb - half_mb
    allowed = max(5.0, half_mb * 0.05)

    def per_10k(mb: float, done: int) -> float | None:
        return round(mb / done * 10_000, 2) if done > 0 else None

    first = per_10k(half_mb - start_mb, works[half] - works[0])
    second = per_10k(growth, work - works[half])
    if work < min_work:
        flat, shape = None, f"too little work to judge ({work} < {min_work})"
    elif growth <= allowed:
        flat, shape = True, "flat after warm-up"
    elif first and second is not None and second < first / 2:
        flat, shape = False, "still warming up (growth slowing down)"
    else:
        flat, shape = False, "grows with the work done (leak?)"
    return {
        "flat": flat,
        "shape": shape,
        "work": work,
        "rss_at_start_mb": start_mb,
        "rss_at_half_work_mb": half_mb,
        "rss_at_end_mb": end_mb,
        "growth_second_half_mb": round(growth, 1),
        "allowed_growth_mb": round(allowed, 1),
        "mb_per_10k_first_half": first,
        "mb_per_10k_second_half": second,
    }
