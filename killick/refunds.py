"""Refunds of withdrawal payments Killick could not accept (``too_small``/``too_large``).

What is paid back, to whom and with which memo (SEP-6: ``refund_memo``, or else the memo
the user paid with), and what a saved refund envelope's outcome records: on success the
SEP-6 ``refunds`` object, ``refunded``, the payment's ``refunded_at`` and an outbox event
(the status stays: it tells the wallet why). The paying itself is the settlement
protocol's (``killick/workers/refunds.py``), so a refund is made exactly once.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from killick.columns import utcnow
from killick.models import Submission, Transaction, UnmatchedPayment
from killick.stellar.memos import canonical_memo
from killick.transaction_json import amount_text
from killick.transactions import record_change

log = logging.getLogger(__name__)

WITHDRAWAL_KINDS = ("withdrawal", "withdrawal-exchange")
REFUNDABLE_STATUSES = ("too_small", "too_large")


class NoRefundMemo(ValueError):
    """The memo a refund must carry cannot be written (the anchor refunds by hand)."""


def refund_memo(withdrawal: Transaction) -> tuple[str, str] | None:
    """The refund's memo: the wallet's ``refund_memo``, else the withdrawal's own memo
    (the one the user paid with); None when there is neither (a muxed address was used).

    Returned in the form ``build_envelope`` takes; raises NoRefundMemo for a memo that
    cannot be a transaction memo.
    """
    if withdrawal.refund_memo is not None or withdrawal.refund_memo_type is not None:
        memo_type, memo = withdrawal.refund_memo_type, withdrawal.refund_memo
    else:
        memo_type, memo = withdrawal.withdraw_memo_type, withdrawal.withdraw_memo
    if memo is None:
        return None
    canonical = canonical_memo(memo_type, memo)
    if canonical is None or canonical[0] not in ("id", "text", "hash"):
        raise NoRefundMemo(f"cannot send a {memo_type!r} memo {memo!r}")
    if canonical[0] == "text" and len(canonical[1].encode()) > 28:
        raise NoRefundMemo("a text memo is at most 28 bytes")
    return canonical


def refunds_object(withdrawal: Transaction, amount: Decimal, payment_id: str) -> dict[str, Any]:
    """SEP-6's ``refunds`` for one full refund on Stellar; the network fee is the anchor's."""
    paid = amount_text(withdrawal, amount)
    zero = amount_text(withdrawal, Decimal(0))
    return {
        "amount_refunded": paid,
        "amount_fee": zero,
        "payments": [{"id": payment_id, "id_type": "stellar", "amount": paid, "fee": zero}],
    }


def record_refund(
    session: AsyncSession,
    withdrawal: Transaction,
    payment: UnmatchedPayment | None,
    *,
    amount: Decimal,
    payment_id: str,
) -> None:
    """Record a refund paid in full in ``payment_id``; the wallet hears of it (outbox)."""
    now = utcnow()
    withdrawal.refunds = refunds_object(withdrawal, amount, payment_id)
    withdrawal.refunded = True
    # SEP-6: amount_out = amount_in - amount_fee - refunded - refund fees; all went back.
    withdrawal.amount_fee = Decimal(0)
    withdrawal.amount_out = Decimal(0)
    withdrawal.fee_details = None
    withdrawal.message = "The amount received was outside the accepted range; it was refunded."
    if payment is not None:
        payment.refunded_at = now
    record_change(session, withdrawal, reason=f"refunded {amount} in {payment_id}", now=now)


async def _refunds_of(session: AsyncSession, submission: Submission) -> dict[str, Transaction]:
    """The withdrawals this envelope refunds that nothing recorded yet (rows locked on
    PostgreSQL, so two resolvers of one envelope cannot both record it)."""
    rows = await session.scalars(
        select(Transaction)
        .where(
            Transaction.id.in_(list(submission.plan["refunds"])),
            Transaction.envelope_hash == submission.hash,
            Transaction.refunded.is_(False),
        )
        .with_for_update(of=Transaction)
    )
    return {row.id: row for row in rows.unique().all()}


async def finish_refunds(
    session: AsyncSession,
    submission: Submission,
    *,
    successful: bool,
    operation_codes: list[str],
    max_attempts: int,
) -> int:
    """An applied envelope's refunds: recorded when it succeeded; otherwise freed to be
    planned again (a failed transaction pays no one), up to ``max_attempts``. Returns
    the refunds recorded. The caller commits."""
    steps: dict[str, Any] = submission.plan.get("refunds") or {}
    if not steps:
        return 0
    withdrawals = await _refunds_of(session, submission)
    paid = 0
    for withdrawal_id, step in steps.items():
        withdrawal = withdrawals.get(withdrawal_id)
        if withdrawal is None:
            continue
        if successful:
            payment = await session.scalar(
                select(UnmatchedPayment).where(UnmatchedPayment.paging_token == step["payment"])
            )
            record_refund(
                session,
                withdrawal,
                payment,
                amount=Decimal(step["amount"]),
                payment_id=submission.hash,
            )
            paid += 1
            continue
        codes = [operation_codes[i] for i in step["operations"] if i < len(operation_codes)]
        withdrawal.envelope_hash = None
        withdrawal.submission_attempts += 1
        log.warning(
            "refund of withdrawal %s: envelope %s failed (%s), attempt %d",
            withdrawal.id,
            submission.hash,
            ", ".join(codes),
            withdrawal.submission_attempts,
            extra={"transaction_id": withdrawal.id},
        )
        if withdrawal.submission_attempts >= max_attempts:
            give_up(withdrawal, "too many failed refund envelopes", max_attempts)
    return paid


async def release_refunds(session: AsyncSession, submission: Submission) -> None:
    """An abandoned envelope (provably never applied) refunded no one: plan them again."""
    if not submission.plan.get("refunds"):
        return  # a deposits' envelope
    for withdrawal in (await _refunds_of(session, submission)).values():
        withdrawal.envelope_hash = None
        log.info(
            "refund of withdrawal %s: envelope %s expired unapplied; rebuilding",
            withdrawal.id,
            submission.hash,
            extra={"transaction_id": withdrawal.id},
        )


def give_up(withdrawal: Transaction, why: str, max_attempts: int) -> None:
    """Stop refunding ``withdrawal`` automatically (its attempts reach ``max_attempts``);
    its payment stays for the operator. The caller commits."""
    withdrawal.submission_attempts = max(withdrawal.submission_attempts, max_attempts)
    log.error(
        "refund of withdrawal %s given up: %s; its payment stays in unmatched_payment "
        "for the operator (docs/troubleshooting.md)",
        withdrawal.id,
        why,
        extra={"transaction_id": withdrawal.id},
    )
