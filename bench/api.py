"""API scenarios: ``killick serve --workers 2`` as users run it, against its own floor.

The floor (``GET /bench/floor``, a constant JSON answer from the same app and server) is
measured first and last; every scenario is reported as a ratio to their mean, so the
figures compare across machines.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from stellar_sdk import Keypair, TransactionEnvelope

from bench import procs
from bench.loadgen import LoadResult, Operation, run_load
from bench.profiles import Profile
from bench.seed import (
    PASSPHRASE,
    Secrets,
    add_asset,
    bearer,
    bulk_insert,
    history_rows,
    make_settings,
    settings_env,
)
from killick.context import Context

CODE = "BENCH"


@contextlib.contextmanager
def profiled(
    out: Path | None, db: str, name: str, server_pid: int, seconds: float
) -> Iterator[None]:
    """With ``--profile DIR``: py-spy samples each server worker process while the
    scenario runs (collapsed stacks, one file per process; the bench extra has py-spy)."""
    if out is None:
        yield
        return
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    out.mkdir(parents=True, exist_ok=True)
    slug = "".join(c if c.isalnum() else "-" for c in name).strip("-").lower()
    workers = [pid for pid in procs.descendants(server_pid) if pid != server_pid]
    spies = [
        subprocess.Popen(  # noqa: S603
            [
                spy,
                "record",
                "--pid",
                str(pid),
                "--duration",
                str(max(1, round(seconds))),
                "--rate",
                "250",
                "--format",
                "raw",
                "--nonblocking",
                "--output",
                str(out / f"{db}-{slug}-{pid}.txt"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for pid in workers
    ]
    try:
        yield
    finally:
        for spy_process in spies:
            try:
                spy_process.wait(timeout=seconds + 30)
            except subprocess.TimeoutExpired:
                spy_process.kill()


@dataclass(frozen=True)
class ApiScenario:
    name: str
    target: float | None  # minimum ratio to the floor
    op: Operation
    unit: str = "req/s"


def get(path: str, params: dict[str, str] | None = None, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    """A GET of a fixed URL (encoded once) that must answer 200."""
    url = path + ("?" + urlencode(params) if params else "")

    async def op(client: httpx.AsyncClient, _n: int) -> bool:
        response = await client.get(url, headers=headers)
        return response.status_code == 200

    return op


def cycling_get(path: str, choices: list[tuple[dict[str, str], dict[str, str]]]) -> Operation:
    """A GET whose (params, headers) cycle through ``choices``."""
    urls = [(path + "?" + urlencode(params), headers) for params, headers in choices]

    async def op(client: httpx.AsyncClient, n: int) -> bool:
        url, headers = urls[n % len(urls)]
        response = await client.get(url, headers=headers)
        return response.status_code == 200

    return op


def sep10_round_trip(keys: list[Keypair]) -> Operation:
    """GET a challenge, sign it here (the wallet's work, counted in the client's CPU),
    POST it back for a token."""

    async def op(client: httpx.AsyncClient, n: int) -> bool:
        keypair = keys[n % len(keys)]
        challenge = await client.get("/auth?" + urlencode({"account": keypair.public_key}))
        if challenge.status_code != 200:
            return False
        envelope = TransactionEnvelope.from_xdr(challenge.json()["transaction"], PASSPHRASE)
        envelope.sign(keypair)
        answer = await client.post("/auth", json={"transaction": envelope.to_xdr()})
        return answer.status_code == 200 and "token" in answer.json()

    return op


async def _seed(context: Context, history: int) -> tuple[str, list[str]]:
    """The asset, and a wallet with ``history`` transactions; returns (account, ids)."""
    asset = await add_asset(context, CODE)
    account = Keypair.random().public_key
    rows = list(history_rows(asset, account, history))
    await bulk_insert(context, rows)
    return account, [row["id"] for row in rows[-500:]]


def scenarios(keys: Secrets, host_url: str, account: str, ids: list[str]) -> list[ApiScenario]:
    owner = bearer(keys, host_url, account)
    depositors = [Keypair.random().public_key for _ in range(64)]
    challengers = [Keypair.random() for _ in range(64)]
    return [
        ApiScenario("GET stellar.toml", 0.70, get("/.well-known/stellar.toml")),
        ApiScenario("GET /sep6/info", 0.70, get("/sep6/info")),
        ApiScenario(
            "GET /auth (challenge)",
            0.40,
            cycling_get("/auth", [({"account": k.public_key}, {}) for k in challengers]),
        ),
        ApiScenario("SEP-10 round trip", 0.10, sep10_round_trip(challengers), unit="round trips/s"),
        ApiScenario(
            "GET /sep6/transactions (10k rows, limit 20)",
            0.25,
            get("/sep6/transactions", {"asset_code": CODE, "limit": "20"}, owner),
        ),
        ApiScenario(
            "GET /sep6/transaction by id",
            0.30,
            cycling_get("/sep6/transaction", [({"id": i}, owner) for i in ids]),
        ),
        ApiScenario(
            "GET /sep6/deposit",
            0.15,
            cycling_get(
                "/sep6/deposit",
                [
                    ({"asset_code": CODE, "account": a, "amount": "10"}, bearer(keys, host_url, a))
                    for a in depositors
                ],
            ),
        ),
    ]


def _row(db: str, result: LoadResult, floor: float, scenario: ApiScenario | None) -> dict[str, Any]:
    ratio = result.per_second / floor if floor else None
    target = scenario.target if scenario else None
    return {
        "group": "api",
        "db": db,
        "scenario": scenario.name if scenario else result.name,
        "value": result.per_second,
        "unit": scenario.unit if scenario else "req/s",
        "p50_ms": result.p50_ms,
        "p99_ms": result.p99_ms,
        "ratio": round(ratio, 3) if ratio is not None else None,
        "target": target,
        "met": None if target is None or ratio is None else ratio >= target,
        "errors": result.errors,
        "operations": result.operations,
        "client_cpu_share": result.client_cpu_share,
        "concurrency": result.concurrency,
    }


async def run_api(
    profile: Profile,
    db: str,
    database_url: str,
    horizon_url: str,
    keys: Secrets,
    workdir: Any,
    only: Callable[[str], bool] = lambda _name: True,
    profile_dir: Path | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Seed, serve with 2 workers, run each scenario; returns (rows, server memory)."""
    port = procs.free_port()
    host_url = f"http://127.0.0.1:{port}"
    env = procs.child_env(settings_env(keys, database_url, horizon_url, host_url))
    args = ["-m", "killick", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
    rows: list[dict[str, Any]] = []
    with procs.python(args, env, workdir, f"serve-{db}.log") as server:
        # Seed while the server starts: it reads nothing before the first request.
        context = Context.build(make_settings(keys, database_url, horizon_url, HOST_URL=host_url))
        try:
            account, ids = await _seed(context, profile.history_rows)
        finally:
            await context.engine.dispose()
        await asyncio.to_thread(procs.wait_until_up, f"{host_url}/bench/floor", server)

        async def load(name: str, op: Operation) -> LoadResult:
            with profiled(profile_dir, db, name, server.pid, profile.api_seconds):
                result = await run_load(
                    name,
                    host_url,
                    op,
                    concurrency=profile.concurrency,
                    seconds=profile.api_seconds,
                    warmup=profile.api_warmup,
                )
            print(
                f"  [{db}] {name}: {result.per_second} /s, p50 {result.p50_ms} ms, "
                f"p99 {result.p99_ms} ms, errors {result.errors}, "
                f"client CPU {result.client_cpu_share}",
                flush=True,
            )
            return result

        first = await load("floor (first)", get("/bench/floor"))
        measured = [
            (scenario, await load(scenario.name, scenario.op))
            for scenario in scenarios(keys, host_url, account, ids)
            if only(scenario.name)
        ]
        last = await load("floor (last)", get("/bench/floor"))
        memory = procs.peak_rss_mb(server.pid)
    floor = (first.per_second + last.per_second) / 2
    rows.append(_row(db, first, floor, None))
    rows.extend(_row(db, result, floor, scenario) for scenario, result in measured)
    rows.append(_row(db, last, floor, None))
    return rows, {"server (killick serve --workers 2)": memory}
