"""The schema keeps money, big ids and times exact on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from stellar_sdk import Keypair, MuxedAccount

from killick.models import Asset, Base, Transaction

MAX = Decimal("922337203685.4775807")
BIG_MUXED_ID = 2**63 + 5


async def make_asset(session: AsyncSession, code: str = "USD") -> Asset:
    asset = Asset(code=code, issuer=Keypair.random().public_key, sep6_enabled=True)
    session.add(asset)
    await session.flush()
    return asset


def make_transaction(asset: Asset, **values: object) -> Transaction:
    account = Keypair.random().public_key
    defaults: dict[str, object] = {
        "kind": "deposit",
        "status": "incomplete",
        "asset": asset,
        "principal": account,
        "stellar_account": account,
    }
    defaults.update(values)
    return Transaction(**defaults)


async def test_extreme_amounts_and_muxed_ids_survive(sessions) -> None:
    muxed = MuxedAccount(Keypair.random().public_key, BIG_MUXED_ID).account_muxed
    async with sessions() as session:
        asset = await make_asset(session)
        txn = make_transaction(
            asset,
            amount_in=MAX,
            amount_out=Decimal("0.0000001"),
            amount_fee=Decimal("0"),
            muxed_account=muxed,
            principal=muxed,
            account_memo=str(2**64 - 1),
        )
        session.add(txn)
        await session.commit()
        txn_id = txn.id
    async with sessions() as session:
        loaded = await session.get(Transaction, txn_id)
        assert loaded is not None
        assert loaded.amount_in == MAX
        assert loaded.amount_out == Decimal("0.0000001")
        assert MuxedAccount.from_account(loaded.muxed_account).account_muxed_id == BIG_MUXED_ID
        assert loaded.account_memo == "18446744073709551615"
        assert loaded.started_at.tzinfo is not None
        assert loaded.asset.code == "USD"  # loaded with the transaction, no lazy load


async def test_amounts_sum_exactly_in_sql(session: AsyncSession) -> None:
    from sqlalchemy import func

    asset = await make_asset(session)
    for _ in range(3):
        session.add(make_transaction(asset, amount_in=Decimal("0.1")))
    await session.commit()
    total = await session.scalar(select(func.sum(Transaction.amount_in)))
    assert total == Decimal("0.3")  # integer stroops summed, not floats


async def test_datetimes_come_back_in_utc(session: AsyncSession) -> None:
    asset = await make_asset(session)
    moment = datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    txn = make_transaction(asset, started_at=moment)
    session.add(txn)
    await session.commit()
    session.expunge_all()
    loaded = await session.get(Transaction, txn.id)
    assert loaded is not None and loaded.started_at == moment


async def test_withdraw_memo_is_unique_per_receiving_account(session: AsyncSession) -> None:
    asset = await make_asset(session)
    anchor = Keypair.random().public_key
    session.add(
        make_transaction(
            asset,
            kind="withdrawal",
            withdraw_anchor_account=anchor,
            withdraw_memo="42",
            withdraw_memo_type="id",
        )
    )
    session.add(
        make_transaction(
            asset,
            kind="withdrawal",
            withdraw_anchor_account=anchor,
            withdraw_memo="42",
            withdraw_memo_type="id",
        )
    )
    with pytest.raises(IntegrityError):
        await session.commit()


async def test_migrations_match_the_models(engine: AsyncEngine) -> None:
    def diff(connection):
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)

    async with engine.connect() as connection:
        changes = await connection.run_sync(diff)
    assert changes == []
