"""End to end, as `make run` + `killick demo` do it: sandbox network, anchor server with
the reference anchor, worker, and the demo wallet doing a deposit and a withdrawal."""

from __future__ import annotations

import asyncio
import importlib
from decimal import Decimal

import pytest

from killick.app import create_app
from killick.context import Context
from killick.demo import run_demo
from killick.dev import ensure_demo_asset
from killick.sandbox import running_sandbox
from killick.workers import build_worker
from tests.helpers import JWT_KEY, SIGNING, make_settings
from tests.servers import free_port, serve_asgi


@pytest.fixture
def reference_anchor(tmp_path, monkeypatch):
    monkeypatch.setenv("REFERENCE_ANCHOR_DB", str(tmp_path / "reference.db"))
    monkeypatch.setenv("SIGNING_SEED", SIGNING.secret)
    monkeypatch.setenv("SERVER_JWT_KEY", JWT_KEY)
    monkeypatch.setenv("LOCAL_MODE", "1")
    import examples.reference_anchor.integrations as integrations

    importlib.reload(integrations)  # registers again after the registry was reset
    return integrations


async def test_demo_deposit_and_withdrawal_complete(database_url, engine, reference_anchor):
    async with running_sandbox(ledger_seconds=0.1) as sandbox:
        port = free_port()
        settings = make_settings(
            DATABASE_URL=database_url,
            HORIZON_URI=sandbox.url,
            HOST_URL=f"http://127.0.0.1:{port}",
            ACTIVE_SEPS="sep-1,sep-10,sep-6,sep-12,sep-38",
            WORKER_POLL_SECONDS=0.1,
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
            await context.close()
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
