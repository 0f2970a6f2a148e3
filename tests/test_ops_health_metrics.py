"""/health (database, Horizon, worker heartbeats) and /metrics (Prometheus text)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from killick.app import create_app
from killick.columns import utcnow
from killick.models import Event, StellarCursor, Submission, UnmatchedPayment, WorkerHeartbeat
from killick.transactions import transition
from tests.helpers import SIGNING, bearer, make_settings
from tests.servers import free_port, serve_asgi
from tests.test_models import make_asset, make_transaction

LATEST = 500


@pytest.fixture
async def horizon() -> AsyncIterator[dict]:
    """A Horizon root on a loopback port; ``hits`` counts requests to it."""
    state = {"hits": 0}

    async def root(request):
        state["hits"] += 1
        return JSONResponse({"history_latest_ledger": LATEST, "core_latest_ledger": LATEST})

    async with serve_asgi(Starlette(routes=[Route("/", root)])) as address:
        state["url"] = f"http://{address}"
        yield state


async def make_client(database_url, engine, **overrides) -> httpx.AsyncClient:
    app = create_app(make_settings(DATABASE_URL=database_url, **overrides), engine=engine)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def beat(sessions, loop: str, age_seconds: float, worker: str = "w1") -> None:
    async with sessions() as session:
        session.add(
            WorkerHeartbeat(
                worker_id=worker, loop=loop, beat_at=utcnow() - timedelta(seconds=age_seconds)
            )
        )
        await session.commit()


async def test_health_ok_then_a_stale_loop_is_a_503(database_url, engine, sessions, horizon):
    await beat(sessions, "deposits", 3)
    await beat(sessions, "callbacks", 1)
    await beat(sessions, "callbacks", 500, worker="w-old")  # an old worker: the freshest counts
    async with await make_client(
        database_url, engine, HORIZON_URI=horizon["url"], HEALTH_HEARTBEAT_MAX_AGE_SECONDS=60
    ) as client:
        response = await client.get("/health")
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["status"] == "ok"
        assert body["checks"]["database"] == {"status": "ok"}
        assert body["checks"]["horizon"] == {"status": "ok", "latest_ledger": LATEST}
        loops = body["checks"]["workers"]["loops"]
        assert loops["callbacks"]["workers"] == 2 and loops["callbacks"]["age_seconds"] < 60
        assert response.headers["cache-control"] == "no-store"

        await beat(sessions, "withdrawals", 300)
        response = await client.get("/health")
        assert response.status_code == 503
        workers = response.json()["checks"]["workers"]
        assert workers["status"] == "down"
        assert workers["loops"]["withdrawals"]["status"] == "down"
        assert "withdrawals" in workers["error"] and "deposits" not in workers["error"]
        assert horizon["hits"] == 1  # cached between checks


async def test_health_without_workers_or_horizon(database_url, engine):
    async with await make_client(
        database_url, engine, HORIZON_URI=f"http://127.0.0.1:{free_port()}"
    ) as client:
        response = await client.get("/health")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"]["status"] == "ok"
    assert checks["horizon"]["status"] == "down"
    assert "unreachable" in checks["horizon"]["error"]
    assert checks["workers"] == {"status": "down", "error": "no worker has recorded a heartbeat"}


async def test_health_with_the_database_down(tmp_path, horizon):
    settings = make_settings(
        DATABASE_URL=f"sqlite:///{tmp_path}/missing/dir/killick.db", HORIZON_URI=horizon["url"]
    )
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.get("/health")
        metrics = await client.get("/metrics")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"]["status"] == "down"
    assert checks["workers"]["status"] == "unknown"
    assert checks["horizon"]["status"] == "ok"
    assert metrics.status_code == 200
    assert "killick_database_up 0.0" in metrics.text


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def test_metrics_read_the_database_and_time_requests(
    database_url, engine, sessions, horizon
) -> None:
    async with sessions() as session:
        asset = await make_asset(session)
        a = make_transaction(asset, kind="deposit", status=None, on_change_callback="http://w/")
        transition(session, a, "pending_user_transfer_start")
        b = make_transaction(asset, kind="deposit", status="pending_user_transfer_start")
        c = make_transaction(asset, kind="withdrawal", status="completed")
        session.add_all([a, b, c])
        await session.flush()
        for status, successful in (("pending", None), ("applied", True), ("applied", False)):
            session.add(
                Submission(
                    hash=f"{status}{successful}".ljust(64, "0"),
                    source_account=SIGNING.public_key,
                    sequence="1",
                    max_time=0,
                    envelope_xdr="AAAA",
                    plan={"deposits": {}},
                    status=status,
                    successful=successful,
                )
            )
        now = utcnow()
        session.add_all(
            [
                Event(kind="x", to_status="s", callback_url="http://w/", delivered_at=now),
                Event(kind="x", to_status="s", callback_url="http://w/", attempts=3),
                Event(kind="x", to_status="s"),  # no callback: not counted
            ]
        )
        session.add(StellarCursor(account=asset.issuer, cursor=str((LATEST - 7) << 32 | 4096)))
        session.add(
            UnmatchedPayment(
                paging_token="1",
                account=asset.issuer,
                stellar_transaction_id="ef" * 32,
                from_address=SIGNING.public_key,
                amount=1,
                reason="no memo",
                received_at=now,
            )
        )
        await session.commit()
    await beat(sessions, "deposits", 12)

    async with await make_client(database_url, engine, HORIZON_URI=horizon["url"]) as client:
        await client.get(f"/sep6/transaction?id={a.id}", headers=bearer())
        await client.get(f"/no/such/path/{a.id}")
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    found = samples(response.text)
    assert (
        found[
            (
                "killick_transactions",
                (("kind", "deposit"), ("status", "pending_user_transfer_start")),
            )
        ]
        == 2
    )
    assert found[("killick_transactions", (("kind", "withdrawal"), ("status", "completed")))] == 1
    assert 12 <= found[("killick_worker_loop_lag_seconds", (("loop", "deposits"),))] < 60
    for outcome, count in (("pending", 1), ("successful", 1), ("failed", 1), ("abandoned", 0)):
        assert found[("killick_stellar_submissions", (("outcome", outcome),))] == count
    # a's transition event has a callback URL and is pending; one delivered, one given up
    for outcome in ("delivered", "pending", "given_up"):
        assert found[("killick_callbacks", (("outcome", outcome),))] == 1
    assert found[("killick_observer_ledgers_behind", (("account", asset.issuer),))] == 7
    assert found[("killick_unmatched_payments", ())] == 1
    assert found[("killick_horizon_up", ())] == 1
    assert found[("killick_database_up", ())] == 1
    routes = {
        dict(labels)["route"]
        for (name, labels) in found
        if name == "killick_http_request_duration_seconds_count"
    }
    assert {"/sep6/transaction", "unmatched"} <= routes
    assert a.id not in response.text  # raw paths never become labels


async def test_metrics_token_and_switch(database_url, engine, horizon) -> None:
    async with await make_client(
        database_url, engine, HORIZON_URI=horizon["url"], METRICS_TOKEN="scrape-me-please"
    ) as client:
        assert (await client.get("/metrics")).status_code == 401
        wrong = {"Authorization": "Bearer nope"}
        assert (await client.get("/metrics", headers=wrong)).status_code == 401
        right = {"Authorization": "Bearer scrape-me-please"}
        assert (await client.get("/metrics", headers=right)).status_code == 200
    async with await make_client(database_url, engine, METRICS_ENABLED=False) as client:
        assert (await client.get("/metrics")).status_code == 404
