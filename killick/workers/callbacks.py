"""Delivering the outbox: each event POSTed to its callback URL, signed, in order.

``transition()`` (SEP-6 transactions) and SEP-12 ``record_status`` (customers) write an
``Event`` with the JSON to send and the wallet's URL in the same database transaction as
the change. This loop POSTs the payload with a ``Signature`` header made afresh for
every attempt (CHECKLIST X-08), and retries with capped, jittered exponential backoff
until ``CALLBACK_MAX_AGE_SECONDS`` after the event, then gives up (``next_attempt_at``
NULL, ``last_error`` kept). Events of one transaction (or customer) go out in order:
an event waits while an earlier one of the same transaction is still to be delivered.
Events are leased (``claimed_by``/``claimed_until``) so two workers never send the same
one; delivery is at least once (a crash between a POST and its record sends it again).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.orm import aliased

from killick.callback_targets import UnsafeTarget, resolve_target
from killick.columns import utcnow
from killick.context import Context
from killick.models import Event
from killick.signatures import SIGNATURE_HEADER, sign_callback
from killick.workers.backoff import backoff
from killick.workers.leases import claim_ids

log = logging.getLogger(__name__)

BATCHES_PER_PASS = 4  # events claimed per pass: this many times CALLBACK_CONCURRENCY


@dataclass(frozen=True)
class Delivery:
    """What a POST needs of an event, read before any request is made."""

    id: int
    kind: str
    subject: str  # the transaction or customer id, for the log
    to_status: str
    url: str
    payload: Any
    created_at: datetime
    attempts: int

    def describe(self) -> str:
        host = urlsplit(self.url).hostname or "?"
        return f"event {self.id} ({self.kind} {self.subject} -> {self.to_status}, to {host})"


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    error: str | None = None  # the status code or error class, never a response body
    permanent: bool = False


def pending_in_order(now: datetime) -> list[Any]:
    """Conditions for events due now whose earlier events (same transaction or customer)
    were all delivered or given up."""
    earlier = aliased(Event)
    blocked = exists().where(
        earlier.id < Event.id,
        earlier.delivered_at.is_(None),
        earlier.next_attempt_at.is_not(None),
        earlier.callback_url.is_not(None),
        or_(
            and_(Event.transaction_id.is_not(None), earlier.transaction_id == Event.transaction_id),
            and_(Event.customer_id.is_not(None), earlier.customer_id == Event.customer_id),
        ),
    )
    return [
        Event.callback_url.is_not(None),
        Event.delivered_at.is_(None),
        Event.next_attempt_at.is_not(None),
        Event.next_attempt_at <= now,
        ~blocked,
    ]


class Callbacks:
    """The callbacks loop of one worker process (one HTTP client, bounded concurrency)."""

    name = "callbacks"

    def __init__(
        self,
        context: Context,
        worker_id: str,
        *,
        clock: Callable[[], datetime] = utcnow,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.context = context
        self.settings = context.settings
        self.worker_id = worker_id
        self.clock = clock
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self.batch = self.settings.CALLBACK_CONCURRENCY * BATCHES_PER_PASS
        # Long enough for a whole pass, each POST being cut at the timeout.
        self.lease = timedelta(
            seconds=self.settings.WORKER_LEASE_SECONDS
            + BATCHES_PER_PASS * self.settings.CALLBACK_TIMEOUT_SECONDS
        )

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            timeout = self.settings.CALLBACK_TIMEOUT_SECONDS
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(timeout),
                # No connection reuse: requests go to pinned addresses, and a connection
                # opened for one host name must never carry another's callback.
                limits=httpx.Limits(max_keepalive_connections=0),
                follow_redirects=False,
                trust_env=False,  # never through a proxy from the environment
                transport=self._transport,
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def run_once(self) -> int:
        """Deliver what is due (one event per transaction or customer). Returns attempts."""
        deliveries = await self._claim()
        if not deliveries:
            return 0
        limit = asyncio.Semaphore(self.settings.CALLBACK_CONCURRENCY)

        async def bounded(delivery: Delivery) -> Outcome:
            async with limit:
                return await self.deliver(delivery)

        outcomes = await asyncio.gather(*(bounded(d) for d in deliveries))
        await self._record(list(zip(deliveries, outcomes, strict=True)))
        return len(deliveries)

    async def _claim(self) -> list[Delivery]:
        now = self.clock()
        async with self.context.sessions() as session:
            ids = await claim_ids(
                session,
                Event.id,
                Event.claimed_by,
                Event.claimed_until,
                conditions=pending_in_order(now),
                owner=self.worker_id,
                now=now,
                lease=self.lease,
                limit=self.batch,
                order_by=[Event.id],
            )
            if not ids:
                return []
            rows = await session.execute(
                select(
                    Event.id,
                    Event.kind,
                    Event.transaction_id,
                    Event.customer_id,
                    Event.to_status,
                    Event.callback_url,
                    Event.payload,
                    Event.created_at,
                    Event.attempts,
                )
                .where(Event.id.in_(ids), Event.claimed_by == self.worker_id)
                .order_by(Event.id)
            )
            return [
                Delivery(
                    id=row.id,
                    kind=row.kind,
                    subject=row.transaction_id or row.customer_id or "-",
                    to_status=row.to_status,
                    url=row.callback_url,
                    payload=row.payload,
                    created_at=row.created_at,
                    attempts=row.attempts,
                )
                for row in rows
            ]

    async def deliver(self, delivery: Delivery) -> Outcome:
        """One attempt: check the target, serialise once, sign those bytes, POST them."""
        timeout = self.settings.CALLBACK_TIMEOUT_SECONDS
        try:
            async with asyncio.timeout(timeout):
                target = await resolve_target(delivery.url, local_mode=self.settings.LOCAL_MODE)
                body = json.dumps(delivery.payload, separators=(",", ":")).encode()
                headers = {
                    "Content-Type": "application/json",
                    SIGNATURE_HEADER: sign_callback(
                        self.settings.signing_keypair, delivery.url, body
                    ),
                }
                if target.host_header:
                    headers["Host"] = target.host_header
                async with self._http().stream(
                    "POST",
                    target.request_url,
                    content=body,
                    headers=headers,
                    extensions=target.extensions,
                ) as response:
                    status = response.status_code  # the body is never read
        except UnsafeTarget as error:
            return Outcome(False, f"refused: {error}", permanent=True)
        except TimeoutError:
            return Outcome(False, "Timeout")
        except (httpx.HTTPError, OSError) as error:
            return Outcome(False, type(error).__name__)
        if 200 <= status < 300:
            return Outcome(True)
        return Outcome(False, f"HTTP {status}")

    async def _record(self, results: list[tuple[Delivery, Outcome]]) -> None:
        now = self.clock()
        max_age = timedelta(seconds=self.settings.CALLBACK_MAX_AGE_SECONDS)
        async with self.context.sessions() as session:
            for delivery, outcome in results:
                values: dict[str, Any] = {
                    "attempts": Event.attempts + 1,
                    "claimed_by": None,
                    "claimed_until": None,
                }
                what = delivery.describe()
                if outcome.delivered:
                    values["delivered_at"] = now
                    log.info("callback delivered: %s", what)
                elif outcome.permanent or now - delivery.created_at >= max_age:
                    values.update(next_attempt_at=None, last_error=outcome.error)
                    reason = "refused" if outcome.permanent else "gave up after max age"
                    log.warning("callback %s: %s (%s)", reason, what, outcome.error)
                else:
                    delay = backoff(
                        delivery.attempts + 1,
                        self.settings.CALLBACK_BACKOFF_BASE_SECONDS,
                        self.settings.CALLBACK_BACKOFF_CAP_SECONDS,
                    )
                    values.update(
                        next_attempt_at=now + timedelta(seconds=delay), last_error=outcome.error
                    )
                    log.info(
                        "callback failed: %s (%s); next attempt in %.1fs",
                        what,
                        outcome.error,
                        delay,
                    )
                await session.execute(
                    update(Event)
                    .where(Event.id == delivery.id, Event.claimed_by == self.worker_id)
                    .values(values)
                )
            await session.commit()
