"""Leasing at most ``limit`` rows, on PostgreSQL too.

``killick.workers.leases.claim_ids`` puts the ``LIMIT … FOR UPDATE SKIP LOCKED``
candidates in a subquery of the UPDATE; PostgreSQL may plan that as a nested-loop semi
join that re-runs the subquery for every outer row, each run skipping the rows the
statement already updated, so one claim leases *every* matching row (seen with 23 rows
and ``limit=5``). Here the candidates are locked by one statement and leased by a
second in the same database transaction, which bounds the claim on every plan. Same
signature as ``claim_ids``: once that one is fixed, this module can go.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute


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
    candidates = list(
        (
            await session.scalars(
                select(id_column)
                .where(*conditions, free)
                .order_by(*order_by)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).all()
    )
    if not candidates:
        await session.commit()
        return []
    leased = set(
        (
            await session.scalars(
                update(id_column.class_)
                .where(id_column.in_(candidates), free)  # still free: SQLite has no row locks
                .values({owner_column.key: owner, until_column.key: now + lease})
                .returning(id_column)
                .execution_options(synchronize_session=False)
            )
        ).all()
    )
    await session.commit()
    return [row_id for row_id in candidates if row_id in leased]
