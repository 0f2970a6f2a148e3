"""What an operator may see and do by hand, shared by ``killick transactions`` and /admin.

Finding transactions (filters, search by id / memo / Stellar hash), reading their event
history, and changing a status: only through ``transactions.transition()`` (the state
machine's legal moves), always with a reason recorded on the event with the operator as
actor, and never moving a transaction out of ``pending_stellar`` while a saved payment
envelope for it is unresolved on the network (the deposits loop resolves it; a hand
move then could pay twice or lose track of a payment).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from killick.models import Asset, Event, Submission, Transaction
from killick.transactions import MOVES, IllegalTransition, Status, can_move, transition

log = logging.getLogger(__name__)

MAX_REASON_LENGTH = 1000
MAX_LIST = 500
STATUSES = tuple(status.value for status in Status)
KINDS = ("deposit", "withdrawal", "deposit-exchange", "withdrawal-exchange")


class OperatorError(ValueError):
    """A request an operator can correct: the message says what was wrong and what to do."""


@dataclass(frozen=True)
class TransactionFilter:
    """Which transactions to list; every field is optional and they combine with AND."""

    status: str | None = None
    kind: str | None = None
    asset: str | None = None  # CODE or CODE:ISSUER
    account: str | None = None  # the user's Stellar account (G...) or muxed account (M...)
    since: datetime | None = None  # started at or after
    until: datetime | None = None  # started before
    search: str | None = None  # a transaction id, memo, Stellar hash or external id


def parse_time(value: str | None, name: str) -> datetime | None:
    """``2025-01-31`` or an ISO 8601 time; UTC unless it names a zone."""
    if value is None or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise OperatorError(
            f"{name}: not a date or time; use 2025-01-31 or 2025-01-31T12:00"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _check_filter(filters: TransactionFilter) -> None:
    if filters.status and filters.status not in STATUSES:
        raise OperatorError(f"status: unknown {filters.status!r}; one of {', '.join(STATUSES)}")
    if filters.kind and filters.kind not in KINDS:
        raise OperatorError(f"kind: unknown {filters.kind!r}; one of {', '.join(KINDS)}")


async def list_transactions(
    session: AsyncSession, filters: TransactionFilter, *, limit: int = 50, offset: int = 0
) -> list[Transaction]:
    """Newest first. ``limit`` is capped at MAX_LIST."""
    _check_filter(filters)
    query = select(Transaction)
    if filters.status:
        query = query.where(Transaction.status == filters.status)
    if filters.kind:
        query = query.where(Transaction.kind == filters.kind)
    if filters.asset:
        code, _, issuer = filters.asset.strip().partition(":")
        assets = select(Asset.id).where(Asset.code == code)
        if issuer:
            assets = assets.where(Asset.issuer == issuer)
        query = query.where(Transaction.asset_id.in_(assets))
    if filters.account:
        account = filters.account.strip()
        query = query.where(
            or_(Transaction.stellar_account == account, Transaction.muxed_account == account)
        )
    if filters.since:
        query = query.where(Transaction.started_at >= filters.since)
    if filters.until:
        query = query.where(Transaction.started_at < filters.until)
    if filters.search:
        term = filters.search.strip()
        query = query.where(
            or_(
                Transaction.id == term,
                Transaction.stellar_transaction_id == term,
                Transaction.envelope_hash == term,
                Transaction.external_transaction_id == term,
                Transaction.deposit_memo == term,
                Transaction.withdraw_memo == term,
                Transaction.account_memo == term,
            )
        )
    query = query.order_by(Transaction.started_at.desc(), Transaction.id.desc())
    query = query.limit(max(1, min(limit, MAX_LIST))).offset(max(0, offset))
    return list((await session.scalars(query)).all())


async def get_transaction(session: AsyncSession, transaction_id: str) -> Transaction:
    found = await session.get(Transaction, transaction_id.strip())
    if found is None:
        raise OperatorError(f"no transaction {transaction_id}")
    return found


async def events_of(session: AsyncSession, transaction_id: str) -> list[Event]:
    """The transaction's event history, oldest first."""
    query = select(Event).where(Event.transaction_id == transaction_id).order_by(Event.id)
    return list((await session.scalars(query)).all())


def callback_state(event: Event) -> str:
    """How the event's callback went, as the callbacks loop recorded it."""
    if event.callback_url is None:
        return "no callback"
    if event.delivered_at is not None:
        return f"delivered {event.delivered_at:%Y-%m-%d %H:%M:%S}"
    if event.next_attempt_at is not None:
        tried = f" after {event.attempts} attempt(s): {event.last_error}" if event.attempts else ""
        return f"pending, next attempt {event.next_attempt_at:%Y-%m-%d %H:%M:%S}{tried}"
    return f"given up after {event.attempts} attempt(s): {event.last_error}"


async def unresolved_submission(
    session: AsyncSession, transaction: Transaction
) -> Submission | None:
    """A saved envelope paying ``transaction`` that the network has not resolved yet."""
    if transaction.status != Status.PENDING_STELLAR:
        return None
    if transaction.envelope_hash:
        saved = await session.get(Submission, transaction.envelope_hash)
        if saved is not None and saved.status == "pending":
            return saved
    pending = await session.scalars(select(Submission).where(Submission.status == "pending"))
    for saved in pending:
        if transaction.id in (saved.plan or {}).get("deposits", {}):
            return saved
    return None


async def allowed_moves(session: AsyncSession, transaction: Transaction) -> list[str]:
    """The statuses an operator may move ``transaction`` to now (may be none)."""
    if await unresolved_submission(session, transaction) is not None:
        return []
    return sorted(MOVES.get(Status(transaction.status), frozenset()))


def _legal_list(current: str) -> str:
    moves = sorted(MOVES.get(Status(current), frozenset()))
    if not moves:
        return f"none: {current} is final"
    return ", ".join(moves)


async def set_status(
    session: AsyncSession,
    transaction_id: str,
    new_status: str,
    *,
    reason: str | None,
    actor: str,
) -> Event:
    """Move a transaction by hand; raises OperatorError naming the rule it breaks.

    The row is locked (PostgreSQL) so a worker cannot move it at the same time. The
    caller commits.
    """
    reason = (reason or "").strip()
    if not reason:
        raise OperatorError("a reason is required: say why (it is kept on the event)")
    if len(reason) > MAX_REASON_LENGTH:
        raise OperatorError(f"reason: at most {MAX_REASON_LENGTH} characters")
    query = (
        select(Transaction)
        .where(Transaction.id == transaction_id.strip())
        .with_for_update(of=Transaction)
    )
    transaction = await session.scalar(query)
    if transaction is None:
        raise OperatorError(f"no transaction {transaction_id}")
    current = transaction.status
    if new_status not in STATUSES:
        raise OperatorError(
            f"unknown status {new_status!r}; legal moves from {current}: {_legal_list(current)}"
        )
    saved = await unresolved_submission(session, transaction)
    if saved is not None:
        raise OperatorError(
            f"transaction {transaction.id} is pending_stellar and its payment envelope "
            f"{saved.hash} is unresolved on the network (submission pending): moving it now "
            "could pay twice. The deposits loop resolves the envelope; try again once the "
            "submission is applied or abandoned."
        )
    if not can_move(current, new_status):
        raise OperatorError(
            f"{current} -> {new_status} is not allowed; legal moves from {current}: "
            f"{_legal_list(current)}"
        )
    try:
        event = transition(session, transaction, new_status, reason=reason, actor=actor[:64])
    except IllegalTransition as error:  # checked above; kept for a state machine change
        raise OperatorError(str(error)) from None
    log.info(
        "operator %s moved transaction %s: %s -> %s",
        actor,
        transaction.id,
        current,
        new_status,
        extra={"transaction_id": transaction.id, "actor": actor},
    )
    return event
