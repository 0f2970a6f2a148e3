"""Sending withdrawals' off-chain payments, and completing them when the bank confirms.

**Sending, without ever sending twice under two keys.** A withdrawal whose Stellar
payment arrived is ``pending_anchor``. This loop first moves it to ``pending_external``
and commits (it is now *being sent*), then calls
``RailsIntegration.execute_outgoing_transaction(transaction, idempotency_key=<the
transaction id>)``, then records ``outgoing_sent_at`` and commits. A withdrawal found in
``pending_external`` with no ``outgoing_sent_at`` was interrupted between those commits
(a crash, a failed call): the hook is called again **with the same key**, never another,
so a bank that is idempotent on the key pays once. A hook that raises is logged with
the transaction id and retried with backoff (``RAILS_RETRY_*``); the withdrawal is never
dropped. ``submission_attempts`` counts the failed calls.

**Completing.** Every ``RAILS_POLL_SECONDS`` the sent withdrawals are handed to
``poll_outgoing_transactions`` in leased pages; those it returns are ``completed`` and
``WithdrawalIntegration.after_withdrawal`` is called. Statuses the hooks assign
themselves (``error``, ``completed`` …) go through the state machine.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from contextlib import aclosing
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from killick.columns import utcnow
from killick.context import Context
from killick.integrations import call_hook, registry
from killick.models import Transaction
from killick.transactions import Status, apply_hook_status, transition
from killick.workers.backoff import backoff
from killick.workers.leases import claim_ids, release
from killick.workers.pages import (
    AmountProblem,
    ask_about_page,
    leased_pages,
    normalise_amounts,
    rails_hook_implemented,
    restore,
    snapshot,
    still_leased,
)

log = logging.getLogger(__name__)

SEND = "rails.execute_outgoing_transaction"
POLL = "rails.poll_outgoing_transactions"
WITHDRAWAL_KINDS = ("withdrawal", "withdrawal-exchange")
SENT = (Status.PENDING_EXTERNAL.value,)


def due_for_sending() -> list[Any]:
    """Withdrawals to send: ``pending_anchor``, or being sent with no record of it."""
    return [
        Transaction.kind.in_(WITHDRAWAL_KINDS),
        or_(
            Transaction.status == Status.PENDING_ANCHOR,
            and_(
                Transaction.status == Status.PENDING_EXTERNAL,
                Transaction.outgoing_sent_at.is_(None),
            ),
        ),
    ]


class Outgoing:
    """The outgoing withdrawals loop of one worker process."""

    name = "withdrawals_outgoing"

    def __init__(
        self, context: Context, worker_id: str, *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.context = context
        self.settings = context.settings
        self.worker_id = worker_id
        self.clock = clock
        self.lease = timedelta(seconds=self.settings.WORKER_LEASE_SECONDS)
        self._next_poll = 0.0

    async def run_once(self) -> int:
        return await self.send_due() + await self.poll_sent()

    # -- sending --------------------------------------------------------------------------

    async def send_due(self) -> int:
        """Send up to RAILS_CONCURRENCY withdrawals at once. Returns the calls made.

        Without an ``execute_outgoing_transaction`` of the anchor's, withdrawals stay in
        ``pending_anchor`` for the anchor's own processing.
        """
        if not rails_hook_implemented("execute_outgoing_transaction"):
            return 0
        async with self.context.sessions() as session:
            ids = await claim_ids(
                session,
                Transaction.id,
                Transaction.claimed_by,
                Transaction.claimed_until,
                conditions=due_for_sending(),
                owner=self.worker_id,
                now=self.clock(),
                lease=self.lease,
                limit=self.settings.RAILS_CONCURRENCY,
                order_by=[Transaction.updated_at, Transaction.id],
            )
        results = await asyncio.gather(*(self.send(i) for i in ids), return_exceptions=True)
        for txn_id, result in zip(ids, results, strict=True):
            if isinstance(result, BaseException):
                # Not recorded: its lease runs out and it is sent again, with the same key.
                log.error("withdrawal %s: sending failed", txn_id, exc_info=result)
        return len(ids)

    async def send(self, txn_id: str) -> int:
        """Mark as being sent, call the bank with the transaction id as key, record it."""
        async with self.context.sessions() as session:
            txn = await session.scalar(
                select(Transaction)
                .where(Transaction.id == txn_id, Transaction.claimed_by == self.worker_id)
                .execution_options(populate_existing=True)
            )
            if txn is None:
                return 0
            interrupted = txn.status == Status.PENDING_EXTERNAL and txn.outgoing_sent_at is None
            if txn.status != Status.PENDING_ANCHOR and not interrupted:
                log.info("withdrawal %s: now %s; not sending it", txn.id, txn.status)
                release([txn])
                await session.commit()
                return 0
            if txn.status == Status.PENDING_ANCHOR:
                transition(
                    session,
                    txn,
                    Status.PENDING_EXTERNAL,
                    reason=f"sending the off-chain payment ({SEND}, key {txn.id})",
                )
                txn.outgoing_sent_at = None
                await session.commit()
                log.info("withdrawal %s: being sent; calling %s with key %s", txn.id, SEND, txn.id)
            else:
                log.warning(
                    "withdrawal %s: being sent since %s with no record that %s returned "
                    "(a crash or a failed call); calling it again with the same key %s",
                    txn.id,
                    txn.updated_at.isoformat(),
                    SEND,
                    txn.id,
                )
            before = snapshot(txn)
            try:
                await call_hook(
                    registry.rails.execute_outgoing_transaction, txn, idempotency_key=txn.id
                )
            except Exception as error:
                log.exception("withdrawal %s: %s failed", txn.id, SEND)
                await session.rollback()
                await self._retry_later(session, txn_id, type(error).__name__)
                return 1
            await self._record_sent(session, txn, before)
        return 1

    async def _record_sent(
        self, session: AsyncSession, txn: Transaction, before: dict[str, Any]
    ) -> None:
        try:
            normalise_amounts(txn, before)
        except AmountProblem as error:
            log.error("withdrawal %s: %s set unusable amounts (%s); ignored", txn.id, SEND, error)
            restore(txn, {**before, "status": txn.status})
        apply_hook_status(session, txn, before["status"], hook=SEND)
        txn.outgoing_sent_at = self.clock()
        release([txn])
        await session.commit()
        log.info(
            "withdrawal %s: %s returned; recorded as sent (status %s)", txn.id, SEND, txn.status
        )
        if txn.status == Status.COMPLETED:
            await self._after_withdrawal(txn)

    async def _retry_later(self, session: AsyncSession, txn_id: str, error: str) -> None:
        """Keep the lease until the next attempt is due (nobody sends it before then)."""
        txn = await session.get(Transaction, txn_id, populate_existing=True)
        if txn is None or txn.claimed_by != self.worker_id:
            return
        txn.submission_attempts = (txn.submission_attempts or 0) + 1
        delay = backoff(
            txn.submission_attempts,
            self.settings.RAILS_RETRY_BASE_SECONDS,
            self.settings.RAILS_RETRY_CAP_SECONDS,
        )
        txn.claimed_until = self.clock() + timedelta(seconds=delay)
        await session.commit()
        log.warning(
            "withdrawal %s: %s failed (%s), attempt %d; next attempt in %.0fs, same key",
            txn_id,
            SEND,
            error,
            txn.submission_attempts,
            delay,
        )

    # -- completing -----------------------------------------------------------------------

    async def poll_sent(self) -> int:
        """One sweep over the sent withdrawals, at most every RAILS_POLL_SECONDS."""
        if time.monotonic() < self._next_poll:
            return 0
        if not rails_hook_implemented("poll_outgoing_transactions"):
            return 0
        self._next_poll = time.monotonic() + self.settings.RAILS_POLL_SECONDS
        completed_count = 0
        pages = leased_pages(
            self.context,
            conditions=[
                Transaction.kind.in_(WITHDRAWAL_KINDS),
                Transaction.status.in_(SENT),
                Transaction.outgoing_sent_at.is_not(None),
            ],
            owner=self.worker_id,
            clock=self.clock,
            lease=self.lease,
            limit=self.settings.RAILS_PAGE_SIZE,
        )
        async with aclosing(pages):
            async for session, page in pages:
                completed = await self._poll_page(session, page)
                if completed is None:
                    return completed_count
                for txn in completed:
                    await self._after_withdrawal(txn)
                completed_count += len(completed)
        return completed_count

    async def _poll_page(
        self, session: AsyncSession, page: list[Transaction]
    ) -> list[Transaction] | None:
        asked = await ask_about_page(
            session,
            registry.rails.poll_outgoing_transactions,
            POLL,
            page,
            noun="withdrawal",
            then="asking again later",
        )
        if asked is None:
            return None
        before, returned = asked
        ours = await still_leased(
            session, page, owner=self.worker_id, statuses=SENT, until=self.clock() + self.lease
        )
        completed: list[Transaction] = []
        for txn in page:
            if txn.id not in ours:
                log.warning("withdrawal %s: lease lost while %s ran", txn.id, POLL)
                session.expunge(txn)
                continue
            previous = before[txn.id]["status"]
            try:
                normalise_amounts(txn, before[txn.id])
            except AmountProblem as error:
                log.error("withdrawal %s: %s set unusable amounts (%s)", txn.id, POLL, error)
                restore(txn, before[txn.id])
                continue
            if txn.status != previous:
                apply_hook_status(session, txn, previous, hook=POLL)
            elif txn.id in returned:
                transition(session, txn, Status.COMPLETED, reason=f"the bank confirmed ({POLL})")
            if txn.status == Status.COMPLETED:
                completed.append(txn)
        release([txn for txn in page if txn.id in ours])
        await session.commit()
        if completed:
            ids = ", ".join(txn.id for txn in completed)
            log.info("%s: %d withdrawal(s) completed: %s", POLL, len(completed), ids)
        return completed

    async def _after_withdrawal(self, txn: Transaction) -> None:
        try:
            await call_hook(registry.withdrawal.after_withdrawal, txn)
        except Exception:
            log.exception("after_withdrawal hook failed for %s", txn.id)
