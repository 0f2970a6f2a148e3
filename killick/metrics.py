"""``GET /metrics`` in Prometheus's text format (prometheus-client).

Two kinds of figures:

* **Per process**: request latency, a histogram per route *template* (``/transaction``,
  ``/admin/transactions/{transaction_id}``: never the raw path, so ids do not multiply
  the series), method and status. Each uvicorn worker process counts its own requests;
  see docs/operations.md for scraping several.
* **From the database, at scrape time** (cached ``METRICS_CACHE_SECONDS``): transactions
  by status and kind, each worker loop's lag, the withdrawal observer's distance from the
  network's latest ledger, saved Stellar submissions by outcome, callback deliveries by
  outcome, unmatched payments. Every process reads the same rows, so any process answers
  the same; no multiprocess mode is needed for them.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import case, func, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from killick.columns import utcnow
from killick.context import Context
from killick.health import HorizonProbe, horizon_probe, last_beats
from killick.models import Event, StellarCursor, Submission, Transaction, UnmatchedPayment

log = logging.getLogger(__name__)

router = APIRouter()

# One per process, shared by every app it builds (tests build many).
REQUEST_SECONDS = Histogram(
    "killick_http_request_duration_seconds",
    "HTTP request latency by route template, method and status (this process).",
    ["method", "route", "status"],
    registry=None,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def route_template(scope: Scope) -> str:
    """The matched route's path template; ``unmatched`` for 404s (any path, one series)."""
    # Recent FastAPI keeps an included router's routes unprefixed and records the full
    # template in the scope while the route runs; older versions copy routes with the
    # prefix. Read it when the response starts, while the route is still in the scope.
    fastapi_scope = scope.get("fastapi")
    context = (
        fastapi_scope.get("effective_route_context") if isinstance(fastapi_scope, dict) else None
    )
    for holder in (context, scope.get("route")):
        path = getattr(holder, "path_format", None)
        if isinstance(path, str):
            return path
    return "unmatched"


class RequestMetrics:
    """ASGI middleware timing each HTTP request into ``REQUEST_SECONDS``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        route: str | None = None

        async def send_and_note(message: Message) -> None:
            nonlocal status, route
            if message["type"] == "http.response.start":
                status = message["status"]
                route = route_template(scope)
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            method = scope["method"] if scope["method"] in _METHODS else "other"
            REQUEST_SECONDS.labels(method, route or route_template(scope), str(status)).observe(
                time.perf_counter() - started
            )


def _gauge(name: str, documentation: str, labels: list[str]) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, labels=labels)


def _callback_outcome() -> Any:
    return case(
        (Event.delivered_at.is_not(None), "delivered"),
        (Event.next_attempt_at.is_not(None), "pending"),
        else_="given_up",
    )


def _cursor_ledger(cursor: str) -> int | None:
    """The ledger of a Horizon paging token (its top 32 bits); None for "now" or "0"."""
    if not cursor.isdigit() or int(cursor) == 0:
        return None
    return int(cursor) >> 32


async def database_metrics(context: Context, probe: HorizonProbe) -> list[Metric]:
    """Every database-backed gauge, read in one session (a handful of GROUP BYs)."""
    families: list[Metric] = []
    async with context.sessions() as session:
        transactions = _gauge(
            "killick_transactions", "Transactions by status and kind.", ["status", "kind"]
        )
        rows = await session.execute(
            select(Transaction.status, Transaction.kind, func.count()).group_by(
                Transaction.status, Transaction.kind
            )
        )
        for status, kind, count in rows.all():
            transactions.add_metric([status, kind], count)
        families.append(transactions)

        lag = _gauge(
            "killick_worker_loop_lag_seconds",
            "Seconds since the freshest heartbeat of each worker loop (any worker).",
            ["loop"],
        )
        workers = _gauge(
            "killick_worker_loop_workers",
            "Workers that have run each loop and are still on record.",
            ["loop"],
        )
        now = utcnow()
        for loop, (beat_at, count) in sorted((await last_beats(session)).items()):
            lag.add_metric([loop], max(0.0, (now - beat_at).total_seconds()))
            workers.add_metric([loop], count)
        families += [lag, workers]

        submissions = _gauge(
            "killick_stellar_submissions",
            "Saved payment envelopes by outcome: pending (maybe submitted, unresolved), "
            "successful, failed (applied as failed), abandoned (provably never applied).",
            ["outcome"],
        )
        outcome = case(
            (Submission.status != "applied", Submission.status),
            (Submission.successful.is_(True), "successful"),
            else_="failed",
        )
        rows = await session.execute(select(outcome, func.count()).group_by(outcome))
        counts = dict(rows.all())
        for name in ("pending", "successful", "failed", "abandoned"):
            submissions.add_metric([name], counts.get(name, 0))
        families.append(submissions)

        callbacks = _gauge(
            "killick_callbacks",
            "Callback events by delivery outcome: delivered, pending (to be tried), "
            "given_up (retries ended or target refused).",
            ["outcome"],
        )
        outcome = _callback_outcome()
        rows = await session.execute(
            select(outcome, func.count()).where(Event.callback_url.is_not(None)).group_by(outcome)
        )
        counts = dict(rows.all())
        for name in ("delivered", "pending", "given_up"):
            callbacks.add_metric([name], counts.get(name, 0))
        families.append(callbacks)

        unmatched = _gauge(
            "killick_unmatched_payments",
            "Incoming payments no withdrawal took, not refunded yet.",
            [],
        )
        unmatched.add_metric(
            [],
            await session.scalar(
                select(func.count())
                .select_from(UnmatchedPayment)
                .where(UnmatchedPayment.refunded_at.is_(None))
            )
            or 0,
        )
        families.append(unmatched)

        cursors = (await session.execute(select(StellarCursor.account, StellarCursor.cursor))).all()

    horizon = await probe.state()
    up = _gauge("killick_horizon_up", "1 when Horizon's root answered at the last check.", [])
    up.add_metric([], 1 if horizon.reachable else 0)
    families.append(up)
    if horizon.latest_ledger is not None:
        behind = _gauge(
            "killick_observer_ledgers_behind",
            "Network's latest ledger minus the ledger of the observer's cursor, per "
            "receiving account. The cursor moves only when a payment arrives, so this is "
            "an upper bound on the observer's lag, not the lag itself.",
            ["account"],
        )
        for account, cursor in cursors:
            ledger = _cursor_ledger(cursor or "")
            if ledger is not None:
                behind.add_metric([account], max(0, horizon.latest_ledger - ledger))
        families.append(behind)
    return families


class DatabaseCollector(Collector):
    """Yields the last database snapshot; ``refresh`` (async) renews it when stale."""

    def __init__(self, context: Context, cache_seconds: float) -> None:
        self.context = context
        self.cache_seconds = cache_seconds
        self._families: list[Metric] = []
        self._read_at: float | None = None
        self._lock = asyncio.Lock()

    async def refresh(self, probe: HorizonProbe) -> None:
        async with self._lock:
            fresh = self._read_at is not None and (
                time.monotonic() - self._read_at < self.cache_seconds
            )
            if not fresh:
                up = _gauge("killick_database_up", "1 when the last scrape read the database.", [])
                try:
                    families = await database_metrics(self.context, probe)
                    up.add_metric([], 1)
                except Exception as error:  # a scrape shows the outage, never a 500
                    log.warning("metrics: cannot read the database (%s)", type(error).__name__)
                    families = []
                    up.add_metric([], 0)
                self._families = [up, *families]
                self._read_at = time.monotonic()

    def collect(self) -> Iterator[Metric]:
        yield from self._families


def build_registry(context: Context) -> tuple[CollectorRegistry, DatabaseCollector]:
    """A registry per app: this process's request histogram plus the database gauges."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(REQUEST_SECONDS)
    collector = DatabaseCollector(context, context.settings.METRICS_CACHE_SECONDS)
    registry.register(collector)
    return registry, collector


def _authorised(request: Request) -> bool:
    token = request.app.state.killick.settings.METRICS_TOKEN
    if token is None:
        return True
    sent = request.headers.get("authorization", "")
    expected = "Bearer " + token.get_secret_value()
    return hmac.compare_digest(sent.encode(), expected.encode())


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    if not _authorised(request):
        return Response(
            "metrics need Authorization: Bearer <METRICS_TOKEN>\n",
            status_code=401,
            media_type="text/plain",
            headers={"WWW-Authenticate": "Bearer"},
        )
    state = request.app.state
    if getattr(state, "metrics_registry", None) is None:
        state.metrics_registry, state.metrics_collector = build_registry(state.killick)
    await state.metrics_collector.refresh(horizon_probe(request))
    return Response(generate_latest(state.metrics_registry), media_type=CONTENT_TYPE_LATEST)
