"""The background work: paying deposits, observing withdrawals, refunding payments out
of range, driving the rails, delivering callbacks, expiring what waits too long.
``killick worker`` runs it all."""

from __future__ import annotations

from killick.context import Context
from killick.workers.callbacks import Callbacks
from killick.workers.deposits_poll import DepositsPoll
from killick.workers.expiry import Expiry
from killick.workers.observer import PaymentObserver
from killick.workers.outgoing import Outgoing
from killick.workers.refunds import Refunds
from killick.workers.runner import Loop, Worker, new_worker_id
from killick.workers.settlement import Settlement
from killick.workers.trust import TrustWatch

# After a loop did work, the loops it may have given work to run at once instead of at
# their next poll (WORKER_POLL_SECONDS): e.g. a deposit the rails poll moved to
# pending_anchor is paid without waiting. Every status change has a callback to send.
WAKES: dict[str, tuple[str, ...]] = {
    "deposits_poll": ("deposits", "callbacks"),
    "deposits": ("pending_trust", "callbacks"),
    "pending_trust": ("deposits", "callbacks"),
    "withdrawals": ("withdrawals_outgoing", "refunds", "callbacks"),
    "refunds": ("callbacks",),
    "withdrawals_outgoing": ("callbacks",),
    "expiry": ("callbacks",),
}


def build_worker(context: Context, worker_id: str | None = None) -> Worker:
    """A worker with every loop, sharing one id for its leases."""
    worker_id = worker_id or new_worker_id()
    loops: list[Loop] = [
        Settlement(context, worker_id, background=True),
        TrustWatch(context, worker_id),
        PaymentObserver(context, worker_id),
        Refunds(context, worker_id),
        DepositsPoll(context, worker_id),
        Outgoing(context, worker_id),
        Callbacks(context, worker_id),
        Expiry(context, worker_id),
    ]
    return Worker(context, loops, worker_id, WAKES)


__all__ = [
    "Callbacks",
    "DepositsPoll",
    "Expiry",
    "Loop",
    "Outgoing",
    "PaymentObserver",
    "Refunds",
    "Settlement",
    "TrustWatch",
    "Worker",
    "build_worker",
    "new_worker_id",
]
