"""Leases (killick.workers.leases): concurrent claimers share the free rows out.

Settlement leases one channel account per envelope, ten at once with ten channels; each
claimer must come back with a channel of its own, on SQLite as on PostgreSQL.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from stellar_sdk import Keypair

from killick.columns import utcnow
from killick.db import write_transaction
from killick.models import ChannelAccount
from killick.workers.leases import claim_ids


async def _channels(sessions: async_sessionmaker[AsyncSession], count: int) -> list[str]:
    keys = [Keypair.random().public_key for _ in range(count)]
    async with sessions() as session:
        session.add_all(ChannelAccount(public_key=key, seed_encrypted="x") for key in keys)
        await session.commit()
    return keys


async def _claim_one(sessions: async_sessionmaker[AsyncSession], owner: str) -> list[str]:
    async with sessions() as session:
        return await claim_ids(
            session,
            ChannelAccount.public_key,
            ChannelAccount.leased_by,
            ChannelAccount.leased_until,
            conditions=[ChannelAccount.pending_hash.is_(None)],
            owner=owner,
            now=utcnow(),
            lease=timedelta(seconds=60),
            limit=1,
        )


async def test_concurrent_claimers_each_get_a_row_of_their_own(sessions) -> None:
    keys = await _channels(sessions, 10)
    claims = await asyncio.gather(*(_claim_one(sessions, "worker-a") for _ in range(10)))
    assert [len(claim) for claim in claims] == [1] * 10
    assert sorted(key for claim in claims for key in claim) == sorted(keys)


async def test_claimers_of_two_processes_never_share_a_row(database_url, engine) -> None:
    """Two engines stand for two processes sharing the database (the server and a worker,
    or two workers): they have no lock in common but the database's."""
    from killick.db import create_engine, session_factory

    keys = await _channels(session_factory(engine), 6)
    other = create_engine(database_url)
    try:
        claims = await asyncio.gather(
            *(
                _claim_one(session_factory(e), owner)
                for e, owner in [(engine, "worker-a"), (other, "worker-b")] * 4
            )
        )
    finally:
        await other.dispose()
    won = [key for claim in claims for key in claim]
    assert sorted(won) == sorted(keys)  # each row leased once, none left over
    async with session_factory(engine)() as session:
        rows = await session.execute(select(ChannelAccount.public_key, ChannelAccount.leased_by))
        owners: dict[str, str | None] = {key: owner for key, owner in rows}
    for claim, owner in zip(claims, ["worker-a", "worker-b"] * 4, strict=True):
        assert all(owners[key] == owner for key in claim)


async def test_a_write_transaction_inside_a_write_is_not_a_deadlock(sessions) -> None:
    """A session that already writes holds the write lock: a claim in it goes ahead."""
    keys = await _channels(sessions, 2)
    async with sessions() as session:
        async with write_transaction(session):
            channel = await session.get(ChannelAccount, keys[0])
            assert channel is not None
            channel.last_sequence = "7"
            await session.flush()
            async with write_transaction(session):
                await session.execute(text("SELECT 1"))
            await session.commit()
        claimed = await claim_ids(
            session,
            ChannelAccount.public_key,
            ChannelAccount.leased_by,
            ChannelAccount.leased_until,
            conditions=[],
            owner="worker-a",
            now=utcnow(),
            lease=timedelta(seconds=60),
            limit=2,
        )
    assert sorted(claimed) == sorted(keys)
