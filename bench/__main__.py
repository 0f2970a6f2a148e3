"""``python -m bench [--quick] [--db sqlite|postgresql|both] [--only GROUPS]``.

Starts the sandbox, databases, server and workers on 127.0.0.1, runs every scenario
(each bounded in time), prints the table and writes ``<out>/latest.md`` and
``latest.json`` (``quick.md``/``quick.json`` with ``--quick``). Exit status 1 when a
scenario could not run; a missed target is a result, not a failure.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench import api, procs, report, stellar
from bench.chain import Chain
from bench.databases import Databases, postgres_admin_url, postgres_problem
from bench.machine import REPO, describe
from bench.profiles import Profile, choose
from bench.seed import INTEGRATIONS, Secrets
from killick.integrations import load_integrations

GROUPS = ("api", "settlement", "withdrawals", "latency", "memory")


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke size: seconds, not minutes")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument(
        "--only", default=",".join(GROUPS), help=f"comma-separated groups of {', '.join(GROUPS)}"
    )
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    parser.add_argument("--seconds", type=float, help="measured seconds per API scenario")
    parser.add_argument("--concurrency", type=int, help="connections of the load generator")
    parser.add_argument("--ledger-seconds", type=float, help="sandbox ledger interval")
    parser.add_argument(
        "--memory-seconds", type=float, help="how long the worker drains the memory backlog"
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch dir (logs)")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="py-spy each server worker during the API scenarios; collapsed stacks in DIR",
    )
    args = parser.parse_args(argv)
    args.groups = [g.strip() for g in args.only.split(",") if g.strip()]
    unknown = set(args.groups) - set(GROUPS)
    if unknown:
        parser.error(f"unknown group(s) {', '.join(sorted(unknown))}; choose from {GROUPS}")
    return args


class Run:
    def __init__(
        self, profile: Profile, groups: list[str], keep: bool, profile_dir: Path | None = None
    ) -> None:
        self.profile = profile
        self.profile_dir = profile_dir
        self.groups = groups
        self.keep = keep
        self.keys = Secrets()
        self.rows: list[dict[str, Any]] = []
        self.memory: dict[str, dict[str, Any]] = {}
        self.failures: list[str] = []
        self.skipped: list[str] = []

    async def attempt(self, label: str, work: Callable[[], Awaitable[Any]]) -> Any:
        print(f"- {label}", flush=True)
        started = time.monotonic()
        try:
            return await work()
        except Exception as error:
            traceback.print_exc()
            self.failures.append(f"{label}: {type(error).__name__}: {error}")
            return None
        finally:
            print(f"  ({label} took {time.monotonic() - started:.1f}s)", flush=True)

    async def backend(self, kind: str) -> None:
        workdir = Path(tempfile.mkdtemp(prefix=f"killick-bench-{kind}-"))
        dbs = Databases(kind, workdir)
        profile = self.profile
        memory = self.memory.setdefault(kind, {})
        try:
            port = procs.free_port()
            args = ["-m", "bench.sandbox_server", str(port), str(profile.ledger_seconds)]
            env = procs.child_env({})
            with procs.python(args, env, workdir, "sandbox.log") as sandbox:
                await dbs.prepare()  # while the sandbox starts
                url = f"http://127.0.0.1:{port}"
                await asyncio.to_thread(procs.wait_until_up, url + "/", sandbox)
                chain = Chain(url)
                try:
                    await self._scenarios(kind, dbs, chain, workdir, memory)
                finally:
                    await chain.aclose()
                    memory["sandbox (bench.sandbox_server)"] = procs.peak_rss_mb(sandbox.pid)
        finally:
            await dbs.cleanup()
            if self.keep:
                print(f"scratch directory kept: {workdir}")
            else:
                shutil.rmtree(workdir, ignore_errors=True)

    async def _scenarios(
        self, kind: str, dbs: Databases, chain: Chain, workdir: Path, memory: dict[str, Any]
    ) -> None:
        profile, keys = self.profile, self.keys
        if "api" in self.groups:

            async def api_group() -> None:
                rows, used = await api.run_api(
                    profile,
                    kind,
                    await dbs.fresh("api"),
                    chain.url,
                    keys,
                    workdir,
                    profile_dir=self.profile_dir,
                )
                self.rows.extend(rows)
                memory.update(used)

            await self.attempt(f"[{kind}] API scenarios", api_group)
        if "settlement" in self.groups:
            for channels in (1, 10):

                async def settle(channels: int = channels) -> None:
                    url = await dbs.fresh(f"settle{channels}")
                    self._add(await stellar.settlement(profile, kind, url, chain, keys, channels))

                await self.attempt(f"[{kind}] settlement, {channels} channel(s)", settle)
        if "withdrawals" in self.groups:

            async def observe() -> None:
                url = await dbs.fresh("withdrawals")
                self._add(await stellar.withdrawals(profile, kind, url, chain, keys))

            await self.attempt(f"[{kind}] withdrawal matching", observe)
        if "latency" in self.groups:

            async def wait() -> None:
                url = await dbs.fresh("latency")
                self._add(await stellar.latency(profile, kind, url, chain, keys))

            await self.attempt(f"[{kind}] poll-to-paid latency", wait)
        if "memory" in self.groups:

            async def rss() -> None:
                url = await dbs.fresh("memory")
                row = await stellar.memory(profile, kind, url, chain, keys, workdir)
                self._add(row)
                memory["worker (killick worker)"] = {
                    "processes": 1,
                    "largest_mb": row["details"]["peak_rss_mb"],
                    "total_mb": row["details"]["peak_rss_mb"],
                }

            await self.attempt(f"[{kind}] worker memory", rss)

    def _add(self, row: dict[str, Any]) -> None:
        print(f"  [{row['db']}] {row['scenario']}: {row['value']} {row['unit']}", flush=True)
        self.rows.append(row)


async def main_async(args: argparse.Namespace) -> int:
    profile = choose(
        args.quick,
        api_seconds=args.seconds,
        concurrency=args.concurrency,
        ledger_seconds=args.ledger_seconds,
        memory_seconds=args.memory_seconds,
    )
    load_integrations(INTEGRATIONS)  # the rails stand-in calls the bench's rails hook
    run = Run(profile, args.groups, args.keep, args.profile)
    machine = describe()
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    if "postgresql" in kinds:
        problem = await postgres_problem()
        if problem is not None:
            message = f"PostgreSQL at {postgres_admin_url()} unreachable ({problem})"
            if args.db == "postgresql":
                print(message, file=sys.stderr)
                return 1
            run.skipped.append(message)
            kinds.remove("postgresql")
    print(f"Killick bench ({profile.name}) on {machine['cpu']}, {machine['cores']} cores")
    for kind in kinds:
        await run.backend(kind)
    result = {
        "machine": machine,
        "profile": profile.as_dict(),
        "rows": run.rows,
        "memory": run.memory,
        "skipped": run.skipped,
        "failures": run.failures,
    }
    md, js = report.write(result, args.out, "quick" if args.quick else "latest")
    print()
    print(report.table(run.rows))
    print(f"written: {md} and {js}")
    for failure in run.failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    return 1 if run.failures else 0


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(main_async(parse(argv)))


if __name__ == "__main__":
    sys.exit(main())
