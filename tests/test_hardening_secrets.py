"""No secret in the logs or in error answers.

A full deposit and withdrawal (sandbox + server + worker + demo wallet, as in
test_e2e_demo) runs with every logger at DEBUG; then no seed (signing, distribution,
channel), no JWT key, no session token and no KYC value may appear in what was logged.
Error answers are checked the same way.
"""

from __future__ import annotations

import asyncio
import logging
import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from killick.app import create_app
from killick.context import Context
from killick.demo import SAMPLE_KYC, run_demo
from killick.dev import ensure_demo_asset
from killick.models import Asset, ChannelAccount
from killick.sandbox import running_sandbox
from killick.workers import build_worker
from tests.helpers import JWT_KEY, SIGNING, bearer, make_settings
from tests.servers import free_port, serve_asgi
from tests.test_e2e_demo import reference_anchor  # noqa: F401  (a fixture)

JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")


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


def _found(text: str, secrets: set[str]) -> list[str]:
    found = [secret[:6] + "..." for secret in secrets if secret in text]
    if JWT.search(text):
        found.append("a JWT")
    return found


@pytest.mark.usefixtures("reference_anchor")
async def test_no_secret_in_the_logs_of_a_deposit_and_withdrawal(
    database_url,
    engine,
    caplog,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with running_sandbox(ledger_seconds=0.1) as sandbox:
        port = free_port()
        settings = make_settings(
            DATABASE_URL=database_url,
            HORIZON_URI=sandbox.url,
            HOST_URL=f"http://127.0.0.1:{port}",
            WORKER_POLL_SECONDS=0.1,
        )
        await ensure_demo_asset(settings)
        app = create_app(settings, engine=engine)
        context = Context.build(settings, engine)
        worker = build_worker(context, "secrets-worker")
        task = asyncio.create_task(worker.run())
        try:
            async with serve_asgi(app, port=port):
                report = await run_demo(
                    f"http://127.0.0.1:{port}",
                    amount=Decimal("100"),
                    say=lambda _: None,
                    step_seconds=45,
                )
        finally:
            worker.stop()
            await task
        seeds = await _seeds(context)
        await context.close()
    assert any("withdrawal completed" in text for _, text in report.steps)
    assert seeds, "the asset's distribution seed was read back"
    kyc = {value for value in SAMPLE_KYC.values() if len(value) >= 8}  # "Ada" is in XDR
    secrets = {SIGNING.secret, JWT_KEY, *seeds, *kyc}
    logged = caplog.text
    assert len(caplog.records) > 50  # the run was logged at all
    assert not _found(logged, secrets), _found(logged, secrets)


async def test_no_secret_in_error_answers(client, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    token = bearer()
    kyc = {"last_name": SAMPLE_KYC["last_name"], "email_address": SAMPLE_KYC["email_address"]}
    answers = [
        await client.get("/sep6/transaction", params={"id": "x"}, headers=token),
        await client.get("/sep6/deposit", params={"asset_code": "NOPE"}, headers=token),
        await client.get("/sep6/transactions", params={"asset_code": "X"}),
        await client.patch("/sep6/transactions/x", json={"transaction": kyc}, headers=token),
        await client.post("/auth", json={"transaction": SIGNING.secret}),
        await client.get("/auth", params={"account": SIGNING.secret}),
        await client.put("/kyc/customer", json=kyc, headers={"Authorization": "Bearer " + JWT_KEY}),
        await client.put("/kyc/customer", json={**kyc, "id": 5}, headers=token),
        await client.get("/sep38/quote/x", headers=token),
        await client.post("/sep38/quote", json={"sell_asset": SIGNING.secret}, headers=token),
    ]
    secrets = {SIGNING.secret, JWT_KEY, token["Authorization"][7:], *kyc.values()}
    for response in answers:
        assert response.status_code >= 400, response.text
        assert not _found(response.text, secrets), (response.request.url, response.text)
    assert not _found(caplog.text, secrets - {SIGNING.secret}), caplog.text
