"""Soak: minutes of mixed API load plus full deposits and withdrawals on the sandbox.

    python -m bench.soak --minutes 10 [--database postgresql://...] [--demos 2] [--rps 20]

Everything runs on 127.0.0.1 as child processes (sandbox, ``killick serve``, ``killick
worker`` with the reference anchor) and is stopped at the end. Load is bounded: ``--rps``
API requests per second in total, ``--demos`` demo wallets at a time, each doing a whole
SEP-10 / SEP-12 / SEP-6 deposit and withdrawal. The rate limiter stays on (its counters
cost a write per request) with limits too high to refuse anything.

Reports: errors (target 0: any 5xx, any refused or failed request, any demo that did not
complete), lost or duplicated payments (target 0: for each demo wallet, the deposit
payments it received and the withdrawal payments it sent on the network, against the
completed transactions in the database), and RSS of the server and worker over time
(target: flat after warm-up). Not run in CI.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from stellar_sdk import Keypair

from bench import procs
from bench.seed import Secrets, bearer
from killick.context import Context
from killick.demo import run_demo
from killick.dev import ensure_demo_asset
from killick.migrate import migrate
from killick.models import Transaction
from killick.settings import Settings

INTEGRATIONS = "examples.reference_anchor.integrations"
SAMPLE_SECONDS = 10.0


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--database", default=None, help="default: a SQLite file in a scratch dir")
    parser.add_argument("--demos", type=int, default=2, help="demo wallets at a time")
    parser.add_argument("--rps", type=float, default=20.0, help="API requests per second")
    parser.add_argument("--out", default=None, help="write the report as JSON here")
    return parser.parse_args(argv)


class Tally:
    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.demos_ok = 0
        self.wallets: list[str] = []

    def error(self, what: str) -> None:
        self.errors[what] += 1


async def api_load(url: str, keys: Secrets, rps: float, deadline: float, tally: Tally) -> None:
    """Mixed reads a wallet makes, at a fixed total rate (one request in flight at a time
    per slot, so a slow server lowers the load instead of piling it up)."""
    account = Keypair.random().public_key
    token = bearer(keys, url, account)
    calls = [
        ("info", "GET", "/sep6/info", {}, {}),
        ("toml", "GET", "/.well-known/stellar.toml", {}, {}),
        ("challenge", "GET", "/auth", {"account": account}, {}),
        ("transactions", "GET", "/sep6/transactions", {"asset_code": "DEMO"}, token),
        ("customer", "GET", "/kyc/customer", {}, token),
        ("unknown-transaction", "GET", "/sep6/transaction", {"id": "nope"}, token),
    ]
    expected = {"unknown-transaction": 404}
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        while time.monotonic() < deadline:
            started = time.monotonic()
            name, method, path, params, headers = random.choice(calls)
            try:
                response = await client.request(method, path, params=params, headers=headers)
                tally.requests[name] += 1
                if response.status_code != expected.get(name, 200):
                    tally.error(f"{name}: HTTP {response.status_code}")
            except httpx.HTTPError as error:
                tally.error(f"{name}: {type(error).__name__}")
            await asyncio.sleep(max(0.0, 1 / rps - (time.monotonic() - started)))


async def demos(url: str, deadline: float, tally: Tally) -> None:
    while time.monotonic() < deadline:
        try:
            report = await run_demo(url, amount=Decimal("10"), say=lambda _: None, step_seconds=120)
        except Exception as error:  # the demo's failures name the step
            tally.error(f"demo: {str(error)[:120]}")
            continue
        tally.wallets.append(report.figures["wallet"])
        if any("withdrawal completed" in text for _, text in report.steps):
            tally.demos_ok += 1
        else:
            tally.error("demo: withdrawal did not complete")


async def memory(pids: dict[str, int], deadline: float, samples: list[dict[str, Any]]) -> None:
    start = time.monotonic()
    while time.monotonic() < deadline:
        sample: dict[str, Any] = {"t": round(time.monotonic() - start)}
        sample.update({name: procs.memory_kb(pid, "VmRSS") for name, pid in pids.items()})
        samples.append(sample)
        await asyncio.sleep(SAMPLE_SECONDS)


async def payments_of(horizon: str, account: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    async with httpx.AsyncClient(timeout=30) as client:
        url: str | None = f"{horizon}/accounts/{account}/payments?limit=200"
        while url:
            page = (await client.get(url)).json()
            records = page.get("_embedded", {}).get("records", [])
            found += records
            url = page["_links"]["next"]["href"] if len(records) == 200 else None
    return found


async def reconcile(settings: Settings, wallets: list[str]) -> dict[str, int]:
    """Per wallet: DEMO payments received from / sent to the anchor on the network,
    against its completed deposits and withdrawals in the database."""
    context = Context.build(settings)
    try:
        async with context.sessions() as session:
            rows = (
                await session.execute(
                    select(Transaction.stellar_account, Transaction.kind).where(
                        Transaction.status == "completed"
                    )
                )
            ).all()
    finally:
        await context.close()
        await context.engine.dispose()
    completed = Counter((account, kind) for account, kind in rows)
    result = {"lost": 0, "duplicated": 0, "network_deposits": 0, "network_withdrawals": 0}
    for wallet in wallets:
        records = await payments_of(settings.HORIZON_URI, wallet)
        demo = [r for r in records if r.get("asset_code") == "DEMO"]
        received = sum(1 for r in demo if r["to"] == wallet)
        sent = sum(1 for r in demo if r["from"] == wallet)
        result["network_deposits"] += received
        result["network_withdrawals"] += sent
        for on_network, kind in ((received, "deposit"), (sent, "withdrawal")):
            in_db = completed[(wallet, kind)]
            result["lost"] += max(0, in_db - on_network)
            result["duplicated"] += max(0, on_network - in_db)
    result["db_completed"] = sum(completed.values())
    return result


def _flat(samples: list[dict[str, Any]], name: str) -> dict[str, int]:
    values = [s[name] for s in samples if s.get(name)]
    if not values:
        return {}
    warm = values[len(values) // 3 :] or values  # after warm-up
    return {"first_kb": values[0], "warm_kb": warm[0], "last_kb": values[-1], "max_kb": max(values)}


async def soak(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="killick-soak-"))
    keys = Secrets()
    sandbox_port, port = procs.free_port(), procs.free_port()
    url, horizon = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{sandbox_port}"
    database = args.database or f"sqlite:///{workdir / 'killick.db'}"
    env = {
        "SIGNING_SEED": keys.signing_seed,
        "SERVER_JWT_KEY": keys.jwt_key,
        "HOST_URL": url,
        "LOCAL_MODE": "1",
        "DATABASE_URL": database,
        "HORIZON_URI": horizon,
        "INTEGRATIONS": INTEGRATIONS,
        "REFERENCE_ANCHOR_DB": str(workdir / "reference.db"),
        "WORKER_POLL_SECONDS": "0.2",
        "RAILS_POLL_SECONDS": "0.5",
        "RATE_LIMIT_AUTH": "1000000",
        "RATE_LIMIT_CUSTOMER": "1000000",
        "RATE_LIMIT_TRANSFERS": "1000000",
    }
    settings = Settings(_env_file=None, **env)  # type: ignore[call-arg]
    child = procs.child_env(env)
    await migrate(database)
    tally, samples = Tally(), []
    with procs.python(
        [
            "-m",
            "killick",
            "sandbox",
            "--host",
            "127.0.0.1",
            "--port",
            str(sandbox_port),
            "--no-access-log",
        ],
        child,
        workdir,
        "sandbox.log",
    ) as sandbox:
        procs.wait_until_up(horizon + "/", sandbox)
        await ensure_demo_asset(settings)
        with (
            procs.python(
                ["-m", "killick", "serve", "--host", "127.0.0.1", "--port", str(port)],
                child,
                workdir,
                "server.log",
            ) as server,
            procs.python(["-m", "killick", "worker"], child, workdir, "worker.log") as worker,
        ):
            procs.wait_until_up(url + "/.well-known/stellar.toml", server)
            started = time.monotonic()
            deadline = started + args.minutes * 60
            await asyncio.gather(
                memory({"server": server.pid, "worker": worker.pid}, deadline, samples),
                *(demos(url, deadline, tally) for _ in range(args.demos)),
                *(api_load(url, keys, args.rps / 4, deadline, tally) for _ in range(4)),
            )
            await asyncio.sleep(5)  # let the last payments settle
            payments = await reconcile(settings, tally.wallets)
            server_log = (workdir / "server.log").read_text(errors="replace")
            worker_log = (workdir / "worker.log").read_text(errors="replace")
    return {
        "minutes": args.minutes,
        "database": database.split(":", 1)[0],
        "requests": sum(tally.requests.values()),
        "requests_by_kind": dict(tally.requests),
        "errors": sum(tally.errors.values()),
        "errors_by_kind": dict(tally.errors),
        "demos_completed": tally.demos_ok,
        "payments": payments,
        "tracebacks_logged": server_log.count("Traceback") + worker_log.count("Traceback"),
        "rss_server": _flat(samples, "server"),
        "rss_worker": _flat(samples, "worker"),
        "rss_samples": samples,
        "workdir": str(workdir),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    report = asyncio.run(soak(args))
    text = json.dumps(report, indent=2)
    if args.out:
        Path(args.out).write_text(text + "\n")
    summary = {k: v for k, v in report.items() if k != "rss_samples"}
    print(json.dumps(summary, indent=2))
    bad = report["errors"] or report["payments"]["lost"] or report["payments"]["duplicated"]
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
