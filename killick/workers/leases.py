"""Sharing work between worker processes with leases in the database.

Candidate rows are locked with ``FOR UPDATE SKIP LOCKED`` (PostgreSQL; several workers
never claim the same row) and then leased — the worker's id and a deadline written — by
a second statement in the same database transaction, which re-checks that they are still
free. SQLite has no row locks: there the claim runs holding the write lock from its first
read (``killick.db.write_transaction``), so concurrent claimers — settlement leases ten
channels at once — each see the rows the others just leased and take the next ones,
instead of all picking the same rows and all but one coming back empty. Two statements,
not an UPDATE over a LIMIT subquery: PostgreSQL may re-run such a subquery per row and
lease every matching row.
A dead worker's leases simply run out and another worker takes the rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from killick.db import write_transaction
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
    """Lease up to ``limit`` free rows matching ``conditions``; their ids in ``order_by``
    order (committed). Rows another process holds locked are skipped, never waited for."""
    free = or_(until_column.is_(None), until_column < now)
    query = select(id_column).where(*conditions, free).order_by(*order_by)
    if not await _worth_locking(session, query):
        await session.commit()
        return []
    async with write_transaction(session):
        candidates = list(
            (await session.scalars(query.limit(limit).with_for_update(skip_locked=True))).all()
        )
        if not candidates:
            await session.commit()
            return []
        leased = set(
            (
                await session.scalars(
                    update(id_column.class_)
                    .where(id_column.in_(candidates), free)  # still free (belt and braces)
                    .values({owner_column.key: owner, until_column.key: now + lease})
                    .returning(id_column)
                    .execution_options(synchronize_session=False)
                )
            ).all()
        )
        await session.commit()
    return [row_id for row_id in candidates if row_id in leased]


async def _worth_locking(session: AsyncSession, query: Select[Any]) -> bool:
    """Whether a plain read finds a row to claim. SQLite only: there the claim locks the
    whole database, so an idle poll must not (the API server's writes would wait on it,
    and so would this worker's own). PostgreSQL locks rows, and only those it claims."""
    if session.get_bind().dialect.name != "sqlite":
        return True
    return (await session.scalars(query.limit(1))).first() is not None


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
