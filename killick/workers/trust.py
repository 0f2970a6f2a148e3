"""Re-checking deposits whose destination could not receive (``pending_trust``).

A wallet adds the trustline (or makes room, or gets authorized) in its own time; this
loop looks again and sends the deposit back to be paid once the destination is ready.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal

from stellar_sdk.exceptions import BaseRequestError

from killick.columns import utcnow
from killick.context import Context
from killick.stellar.destinations import Readiness, check_destinations
from killick.transactions import transition
from killick.workers.leases import claim_transactions, release

log = logging.getLogger(__name__)


class TrustWatch:
    name = "pending_trust"

    def __init__(self, context: Context, worker_id: str) -> None:
        self.context = context
        self.worker_id = worker_id

    async def run_once(self) -> int:
        settings = self.context.settings
        async with self.context.sessions() as session:
            deposits = await claim_transactions(
                session,
                owner=self.worker_id,
                now=utcnow(),
                lease=timedelta(seconds=settings.WORKER_LEASE_SECONDS),
                limit=100,
                statuses=["pending_trust"],
                kinds=["deposit", "deposit-exchange"],
            )
            moved = 0
            for deposit in deposits:
                address = deposit.to_address or deposit.stellar_account
                amount = deposit.amount_out or Decimal(0)
                try:
                    found = await check_destinations(
                        self.context.horizon(), deposit.asset, {address: amount}
                    )
                except BaseRequestError as error:
                    log.warning("cannot check %s (%s)", deposit.id, type(error).__name__)
                    break
                readiness = found[address].readiness
                claimable = deposit.claimable_balance_supported and readiness == Readiness.NO_TRUST
                if readiness == Readiness.READY or claimable:
                    transition(session, deposit, "pending_anchor", reason="destination ready")
                    moved += 1
            release(deposits)
            await session.commit()
            return moved
