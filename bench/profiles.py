"""Sizes and durations: the full measurement, and ``--quick`` (smoke: each scenario
runs, at tiny size, in seconds; its figures mean nothing)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any


@dataclass(frozen=True)
class Profile:
    name: str
    # API
    api_seconds: float  # measured, per scenario
    api_warmup: float
    concurrency: int
    history_rows: int  # the wallet behind GET /sep6/transactions
    # Stellar (sandbox)
    ledger_seconds: float  # fixed ledger interval of the sandbox
    settle_closes: int  # deposits seeded = channels x per_close x closes
    settle_per_close: int
    withdrawals: int  # backlog of payments for the observer
    payers: int  # wallets making those payments in parallel
    backlog_build_bound: float  # seconds; the backlog is what was paid by then
    latency_seconds: float  # how long deposits trickle in
    latency_rate: float  # deposits per second
    memory_backlog: int
    memory_seconds: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


FULL = Profile(
    name="full",
    api_seconds=15.0,
    api_warmup=2.0,
    concurrency=32,
    history_rows=10_000,
    ledger_seconds=5.0,
    settle_closes=5,
    settle_per_close=100,
    withdrawals=20_000,
    payers=100,
    backlog_build_bound=600.0,
    latency_seconds=30.0,
    latency_rate=20.0,
    memory_backlog=100_000,
    memory_seconds=180.0,  # its first half of work is warm-up (bench.stellar.memory_verdict)
)

QUICK = Profile(
    name="quick",
    api_seconds=0.2,
    api_warmup=0.05,
    concurrency=4,
    history_rows=200,
    ledger_seconds=0.25,
    settle_closes=1,
    settle_per_close=3,
    withdrawals=20,
    payers=4,
    backlog_build_bound=60.0,
    latency_seconds=0.5,
    latency_rate=10.0,
    memory_backlog=200,
    memory_seconds=1.0,
)


def choose(quick: bool, **overrides: Any) -> Profile:
    base = QUICK if quick else FULL
    given = {k: v for k, v in overrides.items() if v is not None}
    return replace(base, **given)
