"""The memo a withdrawing wallet puts on its Stellar payment, so Killick can match it.

Unique per receiving account: a random value, checked against the stored ones, with the
table's UNIQUE (withdraw_anchor_account, withdraw_memo) constraint as the last word.
63 random bits make a clash so unlikely that the check almost never loops.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from killick.models import Transaction

ATTEMPTS = 8

GENERATORS: dict[str, Callable[[], str]] = {
    # ids stay below 2**63 so that no wallet or database that reads them signed trips over
    "id": lambda: str(secrets.randbelow(2**63 - 1) + 1),
    "text": lambda: secrets.token_hex(14),  # 28 characters, the text memo limit
    "hash": lambda: base64.b64encode(secrets.token_bytes(32)).decode(),
}


class MemoSpaceExhausted(RuntimeError):
    """No free memo found in ATTEMPTS tries (only with a broken random source)."""


async def unique_withdraw_memo(session: AsyncSession, account: str, memo_type: str) -> str:
    """A ``memo_type`` memo no other withdrawal to ``account`` uses."""
    generate = GENERATORS[memo_type]
    for _ in range(ATTEMPTS):
        memo = generate()
        with session.no_autoflush:
            taken = await session.scalar(
                select(Transaction.id)
                .where(
                    Transaction.withdraw_anchor_account == account,
                    Transaction.withdraw_memo == memo,
                )
                .limit(1)
            )
        if taken is None:
            return memo
    raise MemoSpaceExhausted(f"no free {memo_type} memo for {account} in {ATTEMPTS} tries")
