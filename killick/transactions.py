"""The transaction state machine: statuses, the legal moves, and the one ``transition()``.

Every status change in Killick goes through ``transition()``, which also writes an
``Event`` (the outbox) in the same database transaction, so a crash can never change a
status without its callback, nor send a callback for a change that was rolled back.
A change the wallet must hear of that keeps the status (a refund paid) goes through
``record_change()``, the outbox's only other writer.
SEP-6 defines no formal state machine; the moves below follow its narrative (CHECKLIST
S6-43) and are documented in docs/transactions.md.
"""

from __future__ import annotations

import logging
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from killick.columns import utcnow
from killick.models import Event, Transaction
from killick.transaction_json import transaction_object

log = logging.getLogger(__name__)


class Status(StrEnum):
    INCOMPLETE = "incomplete"
    PENDING_CUSTOMER_INFO_UPDATE = "pending_customer_info_update"
    PENDING_TRANSACTION_INFO_UPDATE = "pending_transaction_info_update"
    PENDING_USER_TRANSFER_START = "pending_user_transfer_start"
    PENDING_USER_TRANSFER_COMPLETE = "pending_user_transfer_complete"
    PENDING_EXTERNAL = "pending_external"
    PENDING_ANCHOR = "pending_anchor"
    ON_HOLD = "on_hold"
    PENDING_STELLAR = "pending_stellar"
    PENDING_TRUST = "pending_trust"
    PENDING_USER = "pending_user"
    COMPLETED = "completed"
    REFUNDED = "refunded"
    EXPIRED = "expired"
    NO_MARKET = "no_market"
    TOO_SMALL = "too_small"
    TOO_LARGE = "too_large"
    ERROR = "error"


S = Status

TERMINAL: frozenset[Status] = frozenset(
    {S.COMPLETED, S.REFUNDED, S.EXPIRED, S.ERROR, S.NO_MARKET, S.TOO_SMALL, S.TOO_LARGE}
)
INITIAL: frozenset[Status] = frozenset(
    {S.INCOMPLETE, S.PENDING_CUSTOMER_INFO_UPDATE, S.PENDING_USER_TRANSFER_START, S.ERROR}
)
# Statuses in which the user has to act; they expire at user_action_required_by.
WAITING_ON_USER: frozenset[Status] = frozenset(
    {
        S.INCOMPLETE,
        S.PENDING_CUSTOMER_INFO_UPDATE,
        S.PENDING_TRANSACTION_INFO_UPDATE,
        S.PENDING_USER_TRANSFER_START,
        S.PENDING_USER,
        S.PENDING_TRUST,
    }
)
# After the user's funds arrived, these outcomes are always possible.
_AFTER_FUNDS = {S.REFUNDED, S.ERROR, S.ON_HOLD, S.PENDING_TRANSACTION_INFO_UPDATE}

MOVES: dict[Status, frozenset[Status]] = {
    S.INCOMPLETE: frozenset(
        {S.PENDING_CUSTOMER_INFO_UPDATE, S.PENDING_USER_TRANSFER_START, S.EXPIRED, S.ERROR}
    ),
    S.PENDING_CUSTOMER_INFO_UPDATE: frozenset(
        {S.INCOMPLETE, S.PENDING_USER_TRANSFER_START, S.PENDING_ANCHOR, S.EXPIRED, S.ERROR}
    ),
    S.PENDING_USER_TRANSFER_START: frozenset(
        {
            S.PENDING_EXTERNAL,
            S.PENDING_ANCHOR,
            S.PENDING_CUSTOMER_INFO_UPDATE,
            S.ON_HOLD,
            S.EXPIRED,
            S.ERROR,
            S.TOO_SMALL,
            S.TOO_LARGE,
            S.REFUNDED,
        }
    ),
    S.PENDING_EXTERNAL: frozenset(
        {S.PENDING_ANCHOR, S.PENDING_STELLAR, S.PENDING_CUSTOMER_INFO_UPDATE, S.COMPLETED}
        | _AFTER_FUNDS
    ),
    S.PENDING_ANCHOR: frozenset(
        {
            S.PENDING_TRUST,
            S.PENDING_STELLAR,
            S.PENDING_EXTERNAL,
            S.PENDING_USER,
            S.PENDING_USER_TRANSFER_COMPLETE,
            S.PENDING_CUSTOMER_INFO_UPDATE,
            S.COMPLETED,
            S.NO_MARKET,
            S.TOO_SMALL,
            S.TOO_LARGE,
        }
        | _AFTER_FUNDS
    ),
    S.ON_HOLD: frozenset(
        {S.PENDING_ANCHOR, S.PENDING_EXTERNAL, S.PENDING_STELLAR, S.REFUNDED, S.ERROR}
    ),
    S.PENDING_STELLAR: frozenset({S.COMPLETED, S.PENDING_ANCHOR, S.PENDING_TRUST, S.ERROR}),
    S.PENDING_TRUST: frozenset({S.PENDING_ANCHOR, S.PENDING_STELLAR, S.COMPLETED} | _AFTER_FUNDS),
    S.PENDING_USER: frozenset({S.PENDING_ANCHOR, S.PENDING_EXTERNAL, S.EXPIRED} | _AFTER_FUNDS),
    S.PENDING_TRANSACTION_INFO_UPDATE: frozenset(
        {S.PENDING_ANCHOR, S.EXPIRED, S.REFUNDED, S.ERROR}
    ),
    S.PENDING_USER_TRANSFER_COMPLETE: frozenset({S.COMPLETED, S.EXPIRED} | _AFTER_FUNDS),
}
for _terminal in TERMINAL:
    MOVES[_terminal] = frozenset()


class IllegalTransition(ValueError):
    """A status change the state machine does not allow."""


def can_move(current: str | None, new: str) -> bool:
    """Whether ``current`` (None for a new transaction) may become ``new``."""
    try:
        target = Status(new)
    except ValueError:
        return False
    if current is None:
        return target in INITIAL
    try:
        return target in MOVES[Status(current)]
    except ValueError:
        return False


def transition(
    session: AsyncSession,
    transaction: Transaction,
    new_status: str,
    *,
    reason: str | None = None,
    message: str | None = None,
    actor: str = "killick",
    now: datetime | None = None,
) -> Event:
    """Move ``transaction`` to ``new_status`` and record the change in the outbox.

    Raises IllegalTransition for a move the state machine forbids. The caller commits.
    """
    values = move(transaction, new_status, reason=reason, message=message, actor=actor, now=now)
    del values["transaction_id"]  # set from the relationship: a new transaction has no id yet
    event = Event(transaction=transaction, **values)
    session.add(event)
    return event


def move(
    transaction: Transaction,
    new_status: str,
    *,
    reason: str | None = None,
    message: str | None = None,
    actor: str = "killick",
    now: datetime | None = None,
) -> dict[str, Any]:
    """Change ``transaction``'s status fields and return its outbox row as column values.

    ``transition()`` adds that row to the session; a loop that moves a whole page of
    transactions (the withdrawal observer) writes the rows with bulk statements instead,
    in the same database transaction. Raises IllegalTransition for a forbidden move.
    """
    current = transaction.status
    if not can_move(current, new_status):
        raise IllegalTransition(
            f"transaction {transaction.id}: {current or 'new'} -> {new_status} is not allowed"
        )
    now = now or utcnow()
    transaction.status = Status(new_status).value
    transaction.updated_at = now
    if transaction.started_at is None:
        transaction.started_at = now
    if message is not None:
        transaction.message = message
    if new_status in (S.COMPLETED, S.REFUNDED) and transaction.completed_at is None:
        transaction.completed_at = now
    if new_status not in WAITING_ON_USER:
        transaction.user_action_required_by = None
    log.info(
        "transaction %s: %s -> %s (%s)",
        transaction.id,
        current or "new",
        transaction.status,
        reason or actor,
        extra={"transaction_id": transaction.id},
    )
    return _event_values(transaction, current, reason=reason, actor=actor, now=now)


def record_change(
    session: AsyncSession,
    transaction: Transaction,
    *,
    reason: str,
    actor: str = "killick",
    now: datetime | None = None,
) -> Event:
    """Record in the outbox a change that keeps the status (a refund paid on a
    ``too_small`` withdrawal), so the wallet's callback gets the new JSON all the same.

    The event's ``from_status`` equals its ``to_status``. The caller commits.
    """
    now = now or utcnow()
    transaction.updated_at = now
    values = _event_values(transaction, transaction.status, reason=reason, actor=actor, now=now)
    del values["transaction_id"]  # set from the relationship, as transition() does
    event = Event(transaction=transaction, **values)
    session.add(event)
    log.info(
        "transaction %s: %s, status unchanged (%s)",
        transaction.id,
        reason,
        transaction.status,
        extra={"transaction_id": transaction.id},
    )
    return event


def _event_values(
    transaction: Transaction,
    from_status: str | None,
    *,
    reason: str | None,
    actor: str,
    now: datetime,
) -> dict[str, Any]:
    """The one shape of an outbox row: the transaction's JSON as it is now, for its URL."""
    return {
        "kind": "transaction_status",
        "transaction_id": transaction.id,
        "from_status": from_status,
        "to_status": transaction.status,
        "reason": reason,
        "actor": actor,
        "payload": {"transaction": transaction_object(transaction)},
        "callback_url": transaction.on_change_callback,
        "created_at": now,
        "next_attempt_at": now if transaction.on_change_callback else None,
    }


def apply_hook_status(
    session: AsyncSession, transaction: Transaction, previous: str | None, *, hook: str
) -> bool:
    """Apply a status an integration hook assigned directly, through the state machine.

    Returns False (and keeps the previous status) when the move is illegal; the hook's
    mistake is logged with the transaction id, never shown to the wallet.
    """
    assigned = transaction.status
    if assigned == previous:
        return True
    transaction.status = previous  # type: ignore[assignment]
    try:
        transition(session, transaction, assigned, reason=f"set by {hook}", actor=hook)
    except IllegalTransition as error:
        log.error("%s set an illegal status: %s", hook, error)
        return False
    return True
