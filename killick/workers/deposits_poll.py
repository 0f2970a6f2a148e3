"""Asking the anchor's bank which deposits received their off-chain funds.

Every ``RAILS_POLL_SECONDS`` the deposits waiting for the user's transfer
(``pending_user_transfer_start``, and ``pending_external`` for anchors that report an
intermediate state) are handed to ``RailsIntegration.poll_pending_deposits`` in leased
pages of ``RAILS_PAGE_SIZE``. Each one it returns moves to ``pending_anchor`` — once,
however often it is returned — with the amounts it set, where the settlement loop pays
it on Stellar. A status the hook assigned itself is applied through the state machine.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import aclosing
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from killick.columns import utcnow
from killick.context import Context
from killick.fees import fee_for
from killick.integrations import registry
from killick.integrations.calls import HookAnswerError
from killick.models import Transaction
from killick.transactions import Status, apply_hook_status, transition
from killick.workers.leases import release
from killick.workers.pages import (
    AmountProblem,
    ask_about_page,
    leased_pages,
    normalise_amounts,
    rails_hook_implemented,
    restore,
    still_leased,
)

log = logging.getLogger(__name__)

HOOK_NAME = "poll_pending_deposits"
HOOK = f"rails.{HOOK_NAME}"
DEPOSIT_KINDS = ("deposit", "deposit-exchange")
WAITING = (Status.PENDING_USER_TRANSFER_START.value, Status.PENDING_EXTERNAL.value)


async def settle_amounts(txn: Transaction, before: dict[str, Any]) -> None:
    """Make the amounts of a deposit whose funds arrived complete and consistent.

    The hook's values win, rounded to the asset's decimals. When it changed
    ``amount_in`` alone, the fee is asked again of the ``fee`` hook (as ``/deposit``
    did) and ``amount_out`` recomputed; a missing ``amount_out`` is ``amount_in`` minus
    the fee. Raises AmountProblem when they cannot make sense.
    """
    changed = normalise_amounts(txn, before)
    if txn.amount_in is None:
        raise AmountProblem("amount_in is not set: the hook must say how much arrived")
    exchange = txn.kind != "deposit"
    stale_fee = "amount_in" in changed and not changed & {"amount_fee", "amount_out"}
    if not exchange and (txn.amount_fee is None or stale_fee):
        try:
            txn.amount_fee = await fee_for("deposit", txn.asset, txn.amount_in, txn.funding_method)
        except (ValueError, HookAnswerError) as error:
            raise AmountProblem(f"the fee hook refused {txn.amount_in}: {error}") from None
        changed.add("amount_fee")
    stale_out = "amount_out" not in changed and changed & {"amount_in", "amount_fee"}
    if txn.amount_out is None or stale_out:
        if exchange:
            raise AmountProblem("amount_out must be set for an exchange deposit")
        txn.amount_out = txn.amount_in - (txn.amount_fee or 0)
    if txn.amount_out < 0:
        raise AmountProblem(f"amount_in {txn.amount_in} does not cover the fee {txn.amount_fee}")


class DepositsPoll:
    """The pending deposits poll of one worker process."""

    name = "deposits_poll"

    def __init__(
        self, context: Context, worker_id: str, *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.context = context
        self.settings = context.settings
        self.worker_id = worker_id
        self.clock = clock
        self.lease = timedelta(seconds=self.settings.WORKER_LEASE_SECONDS)
        self._next_sweep = 0.0

    async def run_once(self) -> int:
        """One sweep over every waiting deposit, at most every RAILS_POLL_SECONDS."""
        if time.monotonic() < self._next_sweep or not rails_hook_implemented(HOOK_NAME):
            return 0
        self._next_sweep = time.monotonic() + self.settings.RAILS_POLL_SECONDS
        moved = 0
        pages = leased_pages(
            self.context,
            conditions=[Transaction.status.in_(WAITING), Transaction.kind.in_(DEPOSIT_KINDS)],
            owner=self.worker_id,
            clock=self.clock,
            lease=self.lease,
            limit=self.settings.RAILS_PAGE_SIZE,
        )
        async with aclosing(pages):
            async for session, page in pages:
                done = await self._poll_page(session, page)
                if done is None:  # the hook failed: try the whole sweep again next time
                    return moved
                moved += done
        return moved

    async def _poll_page(self, session: AsyncSession, page: list[Transaction]) -> int | None:
        asked = await ask_about_page(
            session,
            registry.rails.poll_pending_deposits,
            HOOK,
            page,
            noun="deposit",
            then="they stay waiting",
        )
        if asked is None:
            return None
        before, returned = asked
        ours = await still_leased(
            session,
            page,
            owner=self.worker_id,
            statuses=WAITING,
            until=self.clock() + self.lease,
        )
        moved: list[str] = []
        for txn in page:
            if txn.id not in ours:
                log.warning(
                    "deposit %s: lease lost while %s ran; left to its new owner", txn.id, HOOK
                )
                session.expunge(txn)
                continue
            if await self._apply(session, txn, before[txn.id], txn.id in returned):
                moved.append(txn.id)
        release([txn for txn in page if txn.id in ours])
        await session.commit()
        if moved:
            log.info("%s: funds received for %d deposit(s): %s", HOOK, len(moved), ", ".join(moved))
        return len(moved)

    async def _apply(
        self, session: AsyncSession, txn: Transaction, before: dict[str, Any], returned: bool
    ) -> bool:
        """Act on the hook's answer for one deposit; whether it moved to pending_anchor."""
        previous = before["status"]
        arrived = returned or (txn.status == Status.PENDING_ANCHOR and previous != txn.status)
        try:
            if arrived:
                await settle_amounts(txn, before)
            else:
                normalise_amounts(txn, before)
        except AmountProblem as error:
            log.error(
                "deposit %s: %s answered unusable amounts (%s); it stays %s",
                txn.id,
                HOOK,
                error,
                previous,
            )
            restore(txn, before)
            return False
        if txn.status != previous:
            applied = apply_hook_status(session, txn, previous, hook=HOOK)
            return applied and txn.status == Status.PENDING_ANCHOR
        if not arrived:
            return False
        transition(
            session,
            txn,
            Status.PENDING_ANCHOR,
            reason=f"off-chain funds received ({HOOK}): amount_in {txn.amount_in}",
        )
        return True
