"""SEP-10 state in the database, shared by every server process."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from killick.models import AuthAccountMode, UsedChallenge


class ChallengeReused(Exception):
    """This challenge was already exchanged for a token."""


class AccountModeConflict(Exception):
    """The account authenticated before as shared (memo/muxed) and now not, or the reverse."""


async def use_challenge(session: AsyncSession, challenge_hash: str, expires_at: int) -> None:
    """Record the challenge as used; raise ChallengeReused if it already was."""
    session.add(
        UsedChallenge(hash=challenge_hash, expires_at=datetime.fromtimestamp(expires_at, UTC))
    )
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()
        raise ChallengeReused from None


async def purge_expired(session: AsyncSession, now: datetime) -> None:
    await session.execute(delete(UsedChallenge).where(UsedChallenge.expires_at < now))


async def check_account_mode(session: AsyncSession, account: str, shared: bool) -> None:
    """A classic account is shared (memo or muxed) or not, once and for all (S10-33)."""
    known = await session.scalar(
        select(AuthAccountMode.shared).where(AuthAccountMode.account == account)
    )
    if known is None:
        session.add(AuthAccountMode(account=account, shared=shared))
        try:
            await session.flush()
        except IntegrityError:  # another process recorded it first: check again
            await session.rollback()
            raise AccountModeConflict from None
        return
    if known != shared:
        raise AccountModeConflict
