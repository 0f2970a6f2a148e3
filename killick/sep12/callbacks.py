"""The wallet's callback URL for customer status changes (``PUT /customer/callback``).

One URL per principal; a new one replaces the old (CHECKLIST S12-22). SEP-12 says the
anchor posts "until the user's status changes to ACCEPTED or REJECTED", after which the
wallet must set a callback again: so the registration ends with the first event that
carries one of those statuses. Delivery (signed like SEP-6 callbacks) is the outbox's.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from killick.columns import utcnow
from killick.errors import APIError
from killick.models import KycCallback
from killick.sep12.store import insert_if_absent

MAX_URL = 2048


def checked_url(url: str | None, *, local_mode: bool) -> str:
    """The callback URL if acceptable: absolute, https (http only in LOCAL_MODE)."""
    if not url:
        raise APIError(400, "url: is required (where to POST customer status changes)")
    parts = urlsplit(url)
    schemes = ("https", "http") if local_mode else ("https",)
    if len(url) > MAX_URL or parts.scheme not in schemes or not parts.hostname:
        need = "an absolute http(s) URL" if local_mode else "an absolute https URL"
        raise APIError(400, f"url: must be {need} of at most {MAX_URL} characters")
    if parts.username or parts.password:
        raise APIError(400, "url: must not carry a user name or password")
    return url


async def set_callback(session: AsyncSession, principal: str, url: str) -> None:
    now = utcnow()
    if not await insert_if_absent(
        session, KycCallback, principal=principal, url=url, updated_at=now
    ):
        await session.execute(
            update(KycCallback)
            .where(KycCallback.principal == principal)
            .values(url=url, updated_at=now)
        )


async def callback_url(session: AsyncSession, principal: str) -> str | None:
    return await session.scalar(select(KycCallback.url).where(KycCallback.principal == principal))


async def end_callback(session: AsyncSession, principal: str) -> None:
    await session.execute(delete(KycCallback).where(KycCallback.principal == principal))
