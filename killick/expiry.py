"""Deadlines for the user's part of a transaction, and expiring the ones that passed.

Where a transaction waits on the user (funds to send, KYC to give, a field to fix), it
carries ``user_action_required_by`` (SEP-6 4.1). ``expire_overdue()`` moves those whose
deadline passed to ``expired`` through the state machine, so each gets its callback.
The workers run it in a loop; it is safe in several processes at once on PostgreSQL.

A transaction made at a SEP-38 quote's terms must have the user's funds before the quote
expires: until they arrive, its deadline is at the latest the quote's ``expires_at``,
so it expires with the quote (CHECKLIST S6-20, P-21).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from killick.models import Quote, Transaction
from killick.settings import Settings
from killick.transactions import MOVES, Status, transition

EXPIRABLE = tuple(sorted(s.value for s, moves in MOVES.items() if Status.EXPIRED in moves))
# Before the user's funds arrive (the statuses a transaction can start in, but error).
BEFORE_FUNDS = {
    Status.INCOMPLETE,
    Status.PENDING_CUSTOMER_INFO_UPDATE,
    Status.PENDING_USER_TRANSFER_START,
}
_INFO_STATUSES = {
    Status.INCOMPLETE,
    Status.PENDING_CUSTOMER_INFO_UPDATE,
    Status.PENDING_TRANSACTION_INFO_UPDATE,
}


def user_deadline(settings: Settings, status: str, now: datetime) -> datetime | None:
    """When the user must have acted in ``status`` (None: no deadline, or not waiting).

    SEP6_TRANSFER_DEADLINE_SECONDS for sending funds, SEP6_INFO_DEADLINE_SECONDS for
    giving information; 0 turns a deadline off.
    """
    if status == Status.PENDING_USER_TRANSFER_START:
        seconds = settings.SEP6_TRANSFER_DEADLINE_SECONDS
    elif status in _INFO_STATUSES:
        seconds = settings.SEP6_INFO_DEADLINE_SECONDS
    else:
        return None
    return now + timedelta(seconds=seconds) if seconds else None


async def deadline_for(
    session: AsyncSession, settings: Settings, txn: Transaction, status: str, now: datetime
) -> datetime | None:
    """``user_deadline``, brought forward to the expiry of ``txn``'s quote, if it has one
    and its funds have not arrived (``status`` is before funds)."""
    deadline = user_deadline(settings, status, now)
    if txn.quote_id is None or status not in BEFORE_FUNDS:
        return deadline
    expires = await session.scalar(select(Quote.expires_at).where(Quote.id == txn.quote_id))
    if expires is None:
        return deadline
    return expires if deadline is None else min(deadline, expires)


def overdue_conditions(now: datetime) -> list[Any]:
    """What makes a transaction due to expire at ``now``."""
    return [
        Transaction.status.in_(EXPIRABLE),
        Transaction.user_action_required_by.is_not(None),
        Transaction.user_action_required_by < now,
        or_(Transaction.claimed_until.is_(None), Transaction.claimed_until < now),
    ]


async def expire_overdue(session: AsyncSession, now: datetime, *, limit: int = 500) -> list[str]:
    """Move up to ``limit`` transactions past ``user_action_required_by`` to ``expired``.

    Returns their ids. Rows another process is expiring are skipped (PostgreSQL row
    locks), never expired twice; so are rows a worker loop holds under its lease (the
    rails poll may be learning right now that the user's funds arrived): they expire
    once the lease is over, if they still wait. The caller commits; on SQLite it runs
    this in ``killick.db.write_transaction`` so that no claim slips between.
    """
    overdue = (
        await session.scalars(
            select(Transaction)
            .where(*overdue_conditions(now))
            .order_by(Transaction.user_action_required_by)
            .limit(limit)
            .with_for_update(skip_locked=True, of=Transaction)
        )
    ).all()
    for txn in overdue:
        transition(
            session,
            txn,
            Status.EXPIRED,
            reason="user_action_required_by passed",
            message="Expired: the required action was not taken in time.",
            now=now,
        )
    return [txn.id for txn in overdue]
