"""Expiring transactions whose user did not act in time (``user_action_required_by``).

Each pass runs ``killick.expiry.expire_overdue`` (up to ``EXPIRY_BATCH`` rows, skipping
rows another worker is expiring) and commits; each transaction moves to ``expired``
through the state machine, so the wallet gets its callback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select

from killick.columns import utcnow
from killick.context import Context
from killick.db import write_transaction
from killick.expiry import expire_overdue, overdue_conditions
from killick.models import Transaction

log = logging.getLogger(__name__)

EXPIRY_BATCH = 500


class Expiry:
    """The expiry loop of one worker process."""

    name = "expiry"

    def __init__(
        self, context: Context, worker_id: str, *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.context = context
        self.worker_id = worker_id
        self.clock = clock

    async def run_once(self) -> int:
        now = self.clock()
        async with self.context.sessions() as session:
            # A plain read first: an idle pass takes no write lock (SQLite).
            due = await session.scalar(
                select(Transaction.id).where(*overdue_conditions(now)).limit(1)
            )
            if due is None:
                return 0
        async with self.context.sessions() as session, write_transaction(session):
            expired = await expire_overdue(session, now, limit=EXPIRY_BATCH)
            await session.commit()
        if expired:
            log.info("expired %d overdue transaction(s): %s", len(expired), ", ".join(expired))
        return len(expired)
