"""Customer status changes: noticed once, recorded in the outbox, and acted upon.

Killick learns a customer's status only from the integration (after ``PUT /customer``,
on ``GET /customer`` and ``PUT /customer/verification``, or when anchor code calls
``record_status``). It keeps the last status per (customer, type); a different one is a
change, recorded as an ``Event(kind="customer_status")`` whose payload is the
``GET /customer`` body, in the caller's database transaction. The compare-and-set update
makes concurrent requests record one change once.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from killick.columns import utcnow
from killick.models import Event, KycCustomerStatus
from killick.sep12.callbacks import callback_url, end_callback
from killick.sep12.store import insert_if_absent

log = logging.getLogger("killick.sep12")

AcceptedListener = Callable[[AsyncSession, str], Awaitable[None]]

ACCEPTED_LISTENERS: list[AcceptedListener] = []
"""Called as ``await listener(session, principal)`` when a customer becomes ACCEPTED."""

FINAL_FOR_CALLBACKS = ("ACCEPTED", "REJECTED")


async def on_customer_accepted(session: AsyncSession, principal: str) -> None:
    """A customer of ``principal`` was just ACCEPTED: resume what waited for it.

    This is where SEP-6 transactions in ``pending_customer_info_update`` move on (the
    SEP-6 package registers its listener in ``ACCEPTED_LISTENERS``). Listeners run in
    the same database transaction as the status change, so both commit or neither.
    """
    for listener in ACCEPTED_LISTENERS:
        await listener(session, principal)


async def _previous_status(session: AsyncSession, customer_id: str, kind: str) -> str | None:
    return await session.scalar(
        select(KycCustomerStatus.status).where(
            KycCustomerStatus.customer_id == customer_id, KycCustomerStatus.type == kind
        )
    )


async def _swap(
    session: AsyncSession, customer_id: str, kind: str, status: str, now: datetime
) -> tuple[bool, str | None]:
    """Set the stored status to ``status``; (whether this call changed it, previous)."""
    previous = await _previous_status(session, customer_id, kind)
    if previous is None:
        values = {"customer_id": customer_id, "type": kind, "status": status, "updated_at": now}
        if await insert_if_absent(session, KycCustomerStatus, **values):
            return True, None
        previous = await _previous_status(session, customer_id, kind)
    if previous == status:
        return False, previous
    result = await session.execute(
        update(KycCustomerStatus)
        .where(
            KycCustomerStatus.customer_id == customer_id,
            KycCustomerStatus.type == kind,
            KycCustomerStatus.status == previous,
        )
        .values(status=status, updated_at=now)
    )
    return bool(result.rowcount), previous  # type: ignore[attr-defined]


async def record_status(
    session: AsyncSession,
    *,
    principal: str,
    customer_id: str,
    customer_type: str | None,
    body: dict[str, Any],
    now: datetime | None = None,
) -> Event | None:
    """Remember the status in ``body`` (a checked GET /customer body); on a change, add
    the outbox event (for the principal's callback URL, if any) and run the ACCEPTED
    listeners. Returns the event, or None when nothing changed. The caller commits."""
    now = now or utcnow()
    status = body["status"]
    changed, previous = await _swap(session, customer_id, customer_type or "", status, now)
    if not changed:
        return None
    url = await callback_url(session, principal)
    event = Event(
        kind="customer_status",
        customer_id=customer_id,
        from_status=previous,
        to_status=status,
        reason=f"SEP-12 type {customer_type}" if customer_type else None,
        actor="sep12",
        payload=body,
        callback_url=url,
        created_at=now,
        next_attempt_at=now if url else None,
    )
    session.add(event)
    log.info("customer %s: %s -> %s", customer_id, previous or "new", status)
    if url and status in FINAL_FOR_CALLBACKS:
        await end_callback(session, principal)
    if status == "ACCEPTED":
        await on_customer_accepted(session, principal)
    return event
