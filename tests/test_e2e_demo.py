"""End to end, as `make run` + `killick demo` do it: sandbox network, anchor server with
the reference anchor, worker, and the demo wallet doing a deposit, a withdrawal and a
SEP-38 exchange deposit. The same run, with every log record captured at DEBUG, proves
that no secret reaches a log line and that JSON log lines carry transaction ids.
(One run per database: this flow is the slowest test, so it is asserted on once.)"""

from __future__ import annotations

import asyncio
import importlib
import io
import json
import logging
from decimal import Decimal

import pytest
from sqlalchemy import select

from killick.app import create_app
from killick.context import Context
from killick.demo import SAMPLE_KYC, run_demo
from killick.dev import ensure_demo_asset
from killick.logging_setup import KillickFormatter, RedactFilter
from killick.models import Asset, ChannelAccount
from killick.sandbox import running_sandbox
from killick.workers import build_worker
from tests.helpers import JWT_KEY, SIGNING, make_settings
from tests.servers import free_port, serve_asgi
from tests.test_hardening_secrets import _found


@pytest.fixture
def reference_anchor(tmp_path, monkeypatch):
    monkeypatch.setenv("REFERENCE_ANCHOR_DB", str(tmp_path / "reference.db"))
    monkeypatch.setenv("SIGNING_SEED", SIGNING.secret)
    monkeypatch.setenv("SERVER_JWT_KEY", JWT_KEY)
    monkeypatch.setenv("LOCAL_MODE", "1")
    import examples.reference_anchor.integrations as integrations

    importlib.reload(integrations)  # registers again after the registry was reset
    return integrations


class Capture(logging.Handler):
    """What each record says before any redaction, and the JSON lines written after it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.raw: list[str] = []
        self.stream = io.StringIO()
        self.formatted = logging.StreamHandler(self.stream)
        self.formatted.setFormatter(KillickFormatter(json_lines=True))
        self.formatted.addFilter(RedactFilter())

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        self.raw.append(f"{record.name}: {text}")
        self.formatted.handle(logging.makeLogRecord(record.__dict__))


@pytest.fixture
def capture():
    handler = Capture()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(level)


async def _seeds(context: Context) -> set[str]:
    async with context.sessions() as session:
        seeds = {
            seed
            for asset in (await session.scalars(select(Asset))).all()
            if (seed := asset.distribution_seed(context.cipher))
        }
        for channel in (await session.scalars(select(ChannelAccount))).all():
            if channel.seed_encrypted:
                seeds.add(context.cipher.decrypt(channel.seed_encrypted))
    return seeds


async def test_demo_completes_and_logs_no_secret(
    database_url, engine, reference_anchor, capture
) -> None:
    async with running_sandbox(ledger_seconds=0.1) as sandbox:
        port = free_port()
        settings = make_settings(
            DATABASE_URL=database_url,
            HORIZON_URI=sandbox.url,
            HOST_URL=f"http://127.0.0.1:{port}",
            ACTIVE_SEPS="sep-1,sep-10,sep-6,sep-12,sep-38",
            WORKER_POLL_SECONDS=0.1,
            RAILS_POLL_SECONDS=0.2,
        )
        await ensure_demo_asset(settings)
        app = create_app(settings, engine=engine)
        context = Context.build(settings, engine)
        worker = build_worker(context, "e2e-worker")
        task = asyncio.create_task(worker.run())
        lines: list[str] = []
        try:
            async with serve_asgi(app, port=port):
                report = await run_demo(
                    f"http://127.0.0.1:{port}",
                    amount=Decimal("100"),
                    say=lines.append,
                    step_seconds=45,
                )
        finally:
            worker.stop()
            await task
        seeds = await _seeds(context)
        await context.close()

    # The wallet's view: amounts, fees and balances as the reference anchor sets them.
    deposit = report.figures["deposit"]
    assert Decimal(deposit["amount_in"]) == Decimal("100")
    assert Decimal(deposit["amount_fee"]) == Decimal("1.50")  # 1 + 0.5%
    assert Decimal(deposit["amount_out"]) == Decimal("98.50")
    assert report.figures["withdrawal"]["amount_in"] == "98.50"
    assert any("withdrawal completed" in text for _, text in report.steps)
    exchange = report.figures["exchange"]  # 500 BRL, fee 2 + 1% = 7, at 5.00 BRL each
    assert exchange["amount_in_asset"] == "iso4217:BRL"
    assert Decimal(exchange["amount_in"]) == Decimal("500")
    assert Decimal(exchange["amount_out"]) == Decimal("98.60")

    # No secret in any record (before redaction) nor in any written line.
    assert len(seeds) >= 3  # distribution and channel seeds were read back
    kyc = {value for value in SAMPLE_KYC.values() if len(value) >= 8}  # "Ada" is in XDR
    secrets = {SIGNING.secret, JWT_KEY, *seeds, *kyc}
    raw, formatted = "\n".join(capture.raw), capture.stream.getvalue()
    assert len(capture.raw) > 50  # the run was logged at all
    assert not _found(raw, secrets), _found(raw, secrets)
    assert not _found(formatted, secrets), _found(formatted, secrets)
    entries = [json.loads(line) for line in formatted.splitlines()]
    assert len(entries) == len(capture.raw)  # one line per event
    assert any(entry.get("transaction_id") == deposit["id"] for entry in entries)
