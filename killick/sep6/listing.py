"""Reading a principal's transactions: the history (keyset pages) and single lookups.

Each read is one query on an index that starts with the principal
(``ix_transaction_principal_asset_started``, ``ix_transaction_principal_started``), so a
wallet with a million transactions pages as fast as one with ten. Another principal's
transactions are simply not found.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from killick.models import Transaction

MAX_PAGE = 200  # the most /transactions answers at once; older ones via paging_id
KINDS = ("deposit", "deposit-exchange", "withdrawal", "withdrawal-exchange")


async def history(
    session: AsyncSession,
    principal: str,
    asset_ids: Sequence[int],
    *,
    kinds: Sequence[str] = (),
    no_older_than: datetime | None = None,
    paging_id: str | None = None,
    limit: int = MAX_PAGE,
) -> list[Transaction]:
    """Newest first; with ``paging_id``, only those before that transaction (exclusive).

    The order is (started_at, id) descending, so transactions started in the same
    microsecond still page without gaps or repeats. An unknown ``paging_id`` (or
    another principal's) has nothing before it.
    """
    query = select(Transaction).where(
        Transaction.principal == principal, Transaction.asset_id.in_(asset_ids)
    )
    if kinds:
        query = query.where(Transaction.kind.in_(kinds))
    if no_older_than is not None:
        query = query.where(Transaction.started_at >= no_older_than)
    if paging_id is not None:
        cursor = (
            select(Transaction.started_at)
            .where(Transaction.id == paging_id, Transaction.principal == principal)
            .scalar_subquery()
        )
        query = query.where(
            or_(
                Transaction.started_at < cursor,
                and_(Transaction.started_at == cursor, Transaction.id < paging_id),
            )
        )
    query = query.order_by(Transaction.started_at.desc(), Transaction.id.desc()).limit(limit)
    return list((await session.scalars(query)).all())


async def find_one(
    session: AsyncSession,
    principal: str,
    *,
    id: str | None = None,
    stellar_transaction_id: str | None = None,
    external_transaction_id: str | None = None,
    for_update: bool = False,
) -> Transaction | None:
    """The principal's transaction matching every identifier given, or None."""
    query = select(Transaction).where(Transaction.principal == principal)
    if id is not None:
        query = query.where(Transaction.id == id)
    if stellar_transaction_id is not None:
        query = query.where(Transaction.stellar_transaction_id == stellar_transaction_id)
    if external_transaction_id is not None:
        query = query.where(Transaction.external_transaction_id == external_transaction_id)
    if for_update:
        query = query.with_for_update(of=Transaction)
    return (await session.scalars(query.order_by(Transaction.started_at.desc()).limit(1))).first()
