"""Paying back withdrawal payments outside the accepted range, exactly once.

The observer moves a withdrawal whose payment is too small or too large to ``too_small``
/ ``too_large`` and keeps the payment in ``unmatched_payment``. This loop sends the
amount received back to its sender (``from``, an ``M…`` address included) from the
asset's distribution account, with the refund memo SEP-6 asks for, through the deposits'
never-pay-twice protocol (``killick/workers/settlement.py``): a channel under lease, the
signed envelope and its hash saved (the withdrawal's ``envelope_hash`` set) before it is
submitted, resolved by hash, rebuilt only when provably dead. A refund with a memo
travels alone; refunds without one share envelopes. ``WITHDRAWAL_REFUNDS_AUTOMATIC=0``
stops new refunds (the payments stay for the operator); saved ones are still resolved.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy import and_, exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from stellar_sdk.exceptions import BaseRequestError

from killick.columns import utcnow
from killick.models import Asset, ChannelAccount, Transaction, UnmatchedPayment
from killick.refunds import (
    REFUNDABLE_STATUSES,
    WITHDRAWAL_KINDS,
    NoRefundMemo,
    give_up,
    refund_memo,
)
from killick.stellar.destinations import Readiness, base_account, check_destinations
from killick.stellar.envelopes import Action, PlannedDeposit
from killick.workers.leases import claim_ids, release
from killick.workers.settlement import MAX_OPERATIONS, Settlement

log = logging.getLogger(__name__)

Batch = tuple[Asset, list[PlannedDeposit], tuple[str, str] | None]


class Refunds(Settlement):
    """The refunds loop of one worker process (settlement's protocol, refunds' plans)."""

    name = "refunds"

    async def run_once(self) -> int:
        """Resolve saved envelopes, then refund what is due. Returns work done."""
        done = await self.resolve_outstanding()
        if self.settings.WITHDRAWAL_REFUNDS_AUTOMATIC:
            done += await self.refund_waiting()
        return done

    def _due(self) -> list[Any]:
        """Withdrawals whose out-of-range payment is still to be paid back: its
        ``unmatched_payment`` row not refunded (an operator who refunded by hand sets
        ``refunded_at``), no envelope in flight, attempts left."""
        payment_kept = exists().where(
            and_(
                UnmatchedPayment.paging_token == Transaction.paging_token,
                UnmatchedPayment.transaction_id == Transaction.id,
                UnmatchedPayment.refunded_at.is_(None),
            )
        )
        return [
            Transaction.kind.in_(WITHDRAWAL_KINDS),
            Transaction.status.in_(REFUNDABLE_STATUSES),
            Transaction.refunded.is_(False),
            Transaction.envelope_hash.is_(None),
            Transaction.submission_attempts < self.settings.DEPOSIT_MAX_SUBMISSION_ATTEMPTS,
            payment_kept,
        ]

    async def refund_waiting(self) -> int:
        limit = MAX_OPERATIONS * max(1, await self._channel_count())
        async with self.context.sessions() as session:
            ids = await claim_ids(
                session,
                Transaction.id,
                Transaction.claimed_by,
                Transaction.claimed_until,
                conditions=self._due(),
                owner=self.worker_id,
                now=utcnow(),
                lease=self.lease,
                limit=limit,
                order_by=[Transaction.updated_at, Transaction.id],
            )
            if not ids:
                return 0
            rows = await session.execute(
                select(Transaction, UnmatchedPayment)
                .join(UnmatchedPayment, UnmatchedPayment.paging_token == Transaction.paging_token)
                .where(Transaction.id.in_(ids), Transaction.claimed_by == self.worker_id)
                .order_by(Transaction.updated_at, Transaction.id)
            )
            by_asset: dict[int, list[tuple[Transaction, UnmatchedPayment]]] = {}
            for withdrawal, payment in rows.unique().all():
                by_asset.setdefault(withdrawal.asset_id, []).append((withdrawal, payment))
            batches: list[Batch] = []
            for group in by_asset.values():
                batches += await self._plan_refunds(session, group)
            await session.commit()
        results = await asyncio.gather(*(self._pay_batch(*batch) for batch in batches))
        return sum(results)

    async def _plan_refunds(
        self, session: AsyncSession, group: list[tuple[Transaction, UnmatchedPayment]]
    ) -> list[Batch]:
        """What each refund pays, to whom, with which memo; what cannot be paid now keeps
        its lease (tried again when it runs out) and counts an attempt."""
        asset = group[0][0].asset
        withdrawals = [withdrawal for withdrawal, _ in group]
        if not asset.distribution_account or not asset.distribution_seed_encrypted:
            log.error("asset %s has no distribution seed; refunds wait", asset)
            release(withdrawals)
            return []
        maximum = self.settings.DEPOSIT_MAX_SUBMISSION_ATTEMPTS
        plans: list[tuple[PlannedDeposit, tuple[str, str] | None]] = []
        for withdrawal, payment in group:
            if (payment.asset_code, payment.asset_issuer) != (asset.code, asset.issuer):
                give_up(withdrawal, "the payment is not in the withdrawal's asset", maximum)
                release([withdrawal])
                continue
            try:
                memo = refund_memo(withdrawal)
            except NoRefundMemo as error:
                give_up(withdrawal, f"no usable refund memo ({error})", maximum)
                release([withdrawal])
                continue
            sender = payment.from_address
            planned = PlannedDeposit(
                withdrawal.id, Action.REFUND, sender, base_account(sender), payment.amount
            )
            plans.append((planned, memo))
        if not plans:
            return []
        try:
            destinations = await check_destinations(
                self.horizon, asset, {p.destination: p.amount for p, _ in plans}
            )
        except BaseRequestError as error:
            log.warning("cannot check refund destinations (%s); will retry", type(error).__name__)
            release(withdrawals)
            return []
        by_id = {withdrawal.id: withdrawal for withdrawal in withdrawals}
        alone: list[Batch] = []
        shared: list[PlannedDeposit] = []
        for planned, memo in plans:
            readiness = destinations[planned.destination].readiness
            if readiness != Readiness.READY:
                self._not_ready(by_id[planned.deposit_id], readiness)
                continue
            if memo is not None:
                alone.append((asset, [planned], memo))
            else:
                shared.append(planned)
        size = min(MAX_OPERATIONS, self.settings.DEPOSIT_BATCH_SIZE)
        return alone + [(asset, shared[i : i + size], None) for i in range(0, len(shared), size)]

    def _not_ready(self, withdrawal: Transaction, readiness: Readiness) -> None:
        withdrawal.submission_attempts += 1
        maximum = self.settings.DEPOSIT_MAX_SUBMISSION_ATTEMPTS
        if withdrawal.submission_attempts >= maximum:
            give_up(withdrawal, f"the sender cannot receive it ({readiness})", maximum)
            release([withdrawal])
            return
        log.warning(
            "refund of withdrawal %s waits: the sender cannot receive it (%s), attempt %d; "
            "next try in %ss",
            withdrawal.id,
            readiness,
            withdrawal.submission_attempts,
            self.settings.WORKER_LEASE_SECONDS,
            extra={"transaction_id": withdrawal.id},
        )

    async def _save_envelope(
        self,
        asset: Asset,
        channel: ChannelAccount,
        planned: list[PlannedDeposit],
        memo: tuple[str, str] | None,
    ) -> str | None:
        """Build, sign and save a refund envelope, marking each withdrawal with its hash
        (the status stays), in one database transaction before anything is submitted."""
        signed = await self._sign_envelope(asset, channel, planned, memo)
        async with self.context.sessions() as session:
            withdrawals = (
                (
                    await session.scalars(
                        select(Transaction).where(
                            Transaction.id.in_([p.deposit_id for p in planned]),
                            Transaction.claimed_by == self.worker_id,
                            Transaction.status.in_(REFUNDABLE_STATUSES),
                            Transaction.refunded.is_(False),
                            Transaction.envelope_hash.is_(None),
                        )
                    )
                )
                .unique()
                .all()
            )
            if len(withdrawals) != len(planned):
                log.warning("lost the lease on some refunds; not submitting %s", signed.hash)
                release(list(withdrawals))
                await session.commit()
                return None
            tokens = {w.id: w.paging_token for w in withdrawals}
            plan: dict[str, Any] = {"deposits": {}, "refunds": {}}
            for index, item in enumerate(planned):
                plan["refunds"][item.deposit_id] = {
                    "action": str(item.action),
                    "operations": [index],
                    "destination": item.destination,
                    "amount": str(item.amount),
                    "payment": tokens[item.deposit_id],
                }
            await self._store_submission(session, signed, plan, channel)
            for withdrawal in withdrawals:
                withdrawal.envelope_hash = signed.hash
                withdrawal.submission_source = signed.source
                withdrawal.submission_sequence = str(signed.sequence)
            release(list(withdrawals))
            await session.commit()
        for item in planned:
            log.info(
                "refund of withdrawal %s: %s to %s in envelope %s (memo %s)",
                item.deposit_id,
                item.amount,
                item.destination,
                signed.hash,
                memo[0] if memo else "none",
                extra={"transaction_id": item.deposit_id},
            )
        return signed.hash
