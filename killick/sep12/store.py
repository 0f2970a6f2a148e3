"""Who owns which customer and file id: Killick's own record, checked on every request.

The integration issues ids; Killick remembers the principal each was first issued to and
never lets another principal reach it (CHECKLIST S12-16/18, P-05). Claims are
insert-if-absent, so two concurrent requests cannot both claim one id.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from killick.models import Base, KycCallback, KycCustomer, KycCustomerStatus, KycFile


async def insert_if_absent(session: AsyncSession, model: type[Base], **values: Any) -> bool:
    """INSERT the row unless its key exists (on SQLite and PostgreSQL); True if inserted."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(model).values(**values).on_conflict_do_nothing()
    result = await session.execute(statement)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def owner_of(session: AsyncSession, customer_id: str) -> str | None:
    return await session.scalar(select(KycCustomer.principal).where(KycCustomer.id == customer_id))


async def claim_customer(session: AsyncSession, customer_id: str, principal: str) -> str:
    """Record ``principal`` as the owner of ``customer_id`` unless it has one; the owner."""
    await insert_if_absent(session, KycCustomer, id=customer_id, principal=principal)
    owner = await owner_of(session, customer_id)
    assert owner is not None
    return owner


async def customers_of(session: AsyncSession, principal: str) -> list[str]:
    """The customer ids ``principal`` owns, newest first."""
    rows = await session.scalars(
        select(KycCustomer.id)
        .where(KycCustomer.principal == principal)
        .order_by(KycCustomer.created_at.desc(), KycCustomer.id)
    )
    return list(rows)


async def file_owner(session: AsyncSession, file_id: str) -> str | None:
    return await session.scalar(select(KycFile.principal).where(KycFile.id == file_id))


async def claim_file(
    session: AsyncSession, file_id: str, principal: str, customer_id: str | None
) -> str:
    """Record who uploaded ``file_id`` unless it is already recorded; the owner."""
    await insert_if_absent(
        session, KycFile, id=file_id, principal=principal, customer_id=customer_id
    )
    owner = await file_owner(session, file_id)
    assert owner is not None
    return owner


async def forget_principal(session: AsyncSession, principal: str) -> None:
    """After ``DELETE /customer``: drop what Killick keeps about the principal."""
    owned = select(KycCustomer.id).where(KycCustomer.principal == principal)
    await session.execute(delete(KycCustomerStatus).where(KycCustomerStatus.customer_id.in_(owned)))
    await session.execute(delete(KycCustomer).where(KycCustomer.principal == principal))
    await session.execute(delete(KycFile).where(KycFile.principal == principal))
    await session.execute(delete(KycCallback).where(KycCallback.principal == principal))
