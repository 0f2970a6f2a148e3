"""Sharing work between worker processes with leases in the database.

A row is claimed by writing the worker's id and a lease deadline in one statement; on
PostgreSQL the candidate rows are picked with ``FOR UPDATE SKIP LOCKED`` so several
workers never claim the same row, on SQLite (one worker) the statement alone suffices.
A dead worker's leases simply run out and another worker takes the rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from killick.models import Transaction


async def claim_ids(
    session: AsyncSession,
    id_column: InstrumentedAttribute[Any],
    owner_column: InstrumentedAttribute[Any],
    until_column: InstrumentedAttribute[Any],
    *,
    conditions: Sequence[Any],
    owner: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    order_by: Sequence[Any] = (),
) -> list[Any]:
    """Lease up to ``limit`` free rows matching ``conditions``; returns their ids (committed)."""
    candidates = (
        select(id_column)
        .where(*conditions, or_(until_column.is_(None), until_column < now))
        .order_by(*order_by)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    table = id_column.class_
    statement = (
        update(table)
        .where(id_column.in_(candidates.scalar_subquery()))
        .values({owner_column.key: owner, until_column.key: now + lease})
        .returning(id_column)
        .execution_options(synchronize_session=False)
    )
    ids = list((await session.scalars(statement)).all())
    await session.commit()
    return ids


async def claim_transactions(
    session: AsyncSession,
    *,
    owner: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    statuses: Sequence[str],
    kinds: Sequence[str],
) -> list[Transaction]:
    """Lease transactions in ``statuses`` of ``kinds``, oldest change first, with assets."""
    ids = await claim_ids(
        session,
        Transaction.id,
        Transaction.claimed_by,
        Transaction.claimed_until,
        conditions=[Transaction.status.in_(statuses), Transaction.kind.in_(kinds)],
        owner=owner,
        now=now,
        lease=lease,
        limit=limit,
        order_by=[Transaction.updated_at, Transaction.id],
    )
    if not ids:
        return []
    rows = await session.scalars(
        select(Transaction)
        .where(Transaction.id.in_(ids), Transaction.claimed_by == owner)
        .order_by(Transaction.updated_at, Transaction.id)
        .execution_options(populate_existing=True)
    )
    return list(rows.unique().all())


def release(transactions: Sequence[Transaction]) -> None:
    """Give the leases back (the caller commits)."""
    for transaction in transactions:
        transaction.claimed_by = None
        transaction.claimed_until = None
