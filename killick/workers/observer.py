"""Watching the anchor's receiving accounts for withdrawal payments: none lost, none twice.

For each receiving account (an asset's distribution account), one process at a time
holds the cursor row under a lease. It catches up by pages, then streams; every page or
event is matched and the cursor advanced **in the same database transaction**, so a
crash replays from the last committed cursor and produces the same result. A payment
that matches no waiting withdrawal is kept as an ``UnmatchedPayment``, never dropped.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from stellar_sdk.exceptions import BaseRequestError
from stellar_sdk.exceptions import ConnectionError as StellarConnectionError

from killick.columns import utcnow
from killick.context import Context
from killick.fees import fee_for
from killick.models import Asset, StellarCursor, Transaction, UnmatchedPayment
from killick.money import round_amount
from killick.stellar.memos import canonical_memo
from killick.transactions import transition
from killick.workers.leases import claim_ids

log = logging.getLogger(__name__)

PAGE = 200
PAGES_PER_PASS = 50
INCOMING_TYPES = ("payment", "path_payment_strict_send", "path_payment_strict_receive")
WITHDRAWAL_KINDS = ("withdrawal", "withdrawal-exchange")
TOLERANCE = Decimal("0.10")  # CHECKLIST S6-32: accept ±10% of the requested amount


def _exchange_amounts(withdrawal: Transaction, received: Decimal) -> None:
    """An exchange keeps its terms (a SEP-38 quote's, or the market estimate: amount_out
    is in the off-chain asset) when the user paid the amount agreed. Any other amount
    has no agreed terms: amount_out and the fee are cleared, for the anchor's rails to
    convert at its rate. The SEP-6 fee hook, in the Stellar asset, never applies."""
    if received == withdrawal.amount_in:
        return
    withdrawal.amount_in = received
    withdrawal.amount_out = withdrawal.amount_fee = withdrawal.fee_details = None


@dataclass(frozen=True)
class Payment:
    """An incoming payment as the observer reads it from Horizon."""

    paging_token: str
    account: str  # the receiving G... account
    to_muxed: str | None
    from_address: str
    amount: Decimal
    asset_code: str | None
    asset_issuer: str | None
    memo: tuple[str, str] | None
    memo_raw: tuple[str | None, str | None]
    transaction_hash: str
    inner_hash: str | None
    received_at: datetime

    @classmethod
    def from_record(cls, account: str, record: dict[str, Any]) -> Payment | None:
        """None for a record that is not an incoming, successful payment to ``account``."""
        if record.get("type") not in INCOMING_TYPES:
            return None
        if record.get("transaction_successful") is False:
            return None
        to = record.get("to")
        if to != account:
            return None
        transaction = record.get("transaction") or {}
        inner = transaction.get("inner_transaction") or {}
        memo_type, memo = transaction.get("memo_type"), transaction.get("memo")
        return cls(
            paging_token=str(record["paging_token"]),
            account=account,
            to_muxed=record.get("to_muxed"),
            from_address=record.get("from_muxed") or record.get("from") or "",
            amount=Decimal(record["amount"]),
            asset_code=record.get("asset_code"),
            asset_issuer=record.get("asset_issuer"),
            memo=canonical_memo(memo_type, memo),
            memo_raw=(memo_type, memo),
            transaction_hash=record["transaction_hash"],
            inner_hash=inner.get("hash"),
            received_at=datetime.fromisoformat(record["created_at"].replace("Z", "+00:00")),
        )


class PaymentObserver:
    name = "withdrawals"

    def __init__(self, context: Context, worker_id: str, *, stream_seconds: float = 20.0) -> None:
        self.context = context
        self.worker_id = worker_id
        self.settings = context.settings
        self.lease = timedelta(seconds=self.settings.WORKER_LEASE_SECONDS)
        # Stream for less than the lease, so the lease is renewed between sessions.
        self.stream_seconds = min(stream_seconds, self.lease.total_seconds() / 2)

    async def run_once(self) -> int:
        accounts = await self._lease_accounts()
        if not accounts:
            return 0
        try:
            caught_up = 0
            for account in accounts:
                caught_up += await self.catch_up(account)
            if caught_up:
                return caught_up
            results = await asyncio.gather(*(self._stream(account) for account in accounts))
            return sum(results)
        finally:
            await self._release(accounts)

    # -- leases on receiving accounts -------------------------------------------------------

    async def _lease_accounts(self) -> list[str]:
        async with self.context.sessions() as session:
            receiving = set(
                (
                    await session.scalars(
                        select(Asset.distribution_account).where(
                            Asset.distribution_account.is_not(None), Asset.withdrawal_enabled
                        )
                    )
                ).all()
            )
            known = set((await session.scalars(select(StellarCursor.account))).all())
            for account in receiving - known:
                session.add(
                    StellarCursor(account=account, cursor=self.settings.OBSERVER_INITIAL_CURSOR)
                )
                try:
                    await session.commit()
                except IntegrityError:
                    await session.rollback()
            if not receiving:
                return []
            return await claim_ids(
                session,
                StellarCursor.account,
                StellarCursor.leased_by,
                StellarCursor.leased_until,
                conditions=[StellarCursor.account.in_(receiving)],
                owner=self.worker_id,
                now=utcnow(),
                lease=self.lease,
                limit=len(receiving),
            )

    async def _release(self, accounts: list[str]) -> None:
        async with self.context.sessions() as session:
            for account in accounts:
                cursor = await session.get(StellarCursor, account)
                if cursor is not None and cursor.leased_by == self.worker_id:
                    cursor.leased_by = None
                    cursor.leased_until = None
            await session.commit()

    # -- reading the network ------------------------------------------------------------------

    def _builder(self, account: str, cursor: str):  # type: ignore[no-untyped-def]
        builder = self.context.horizon().payments().for_account(account).join("transactions")
        return builder.cursor(cursor or "0")

    async def catch_up(self, account: str) -> int:
        """Process pages until the account's history is read; returns payments seen."""
        seen = 0
        for _ in range(PAGES_PER_PASS):
            cursor = await self._cursor(account)
            try:
                page = await self._builder(account, cursor).limit(PAGE).order(desc=False).call()
            except BaseRequestError as error:
                log.warning("observer %s: cannot read payments (%s)", account, type(error).__name__)
                return seen
            records = page["_embedded"]["records"]
            if not records:
                return seen
            await self.process(account, records)
            seen += len(records)
            if len(records) < PAGE:
                return seen
        return seen

    async def _stream(self, account: str) -> int:
        """Stream new payments for a while; returns how many were processed."""
        cursor = await self._cursor(account)
        stream = self._builder(account, cursor).stream()
        silence = self.settings.OBSERVER_SILENCE_SECONDS
        deadline = asyncio.get_running_loop().time() + self.stream_seconds
        processed = 0
        try:
            while True:
                remaining = deadline - asyncio.get_running_loop().time()
                if remaining <= 0:
                    return processed
                try:
                    record = await asyncio.wait_for(anext(stream), timeout=min(remaining, silence))
                except TimeoutError:
                    if asyncio.get_running_loop().time() < deadline:
                        log.warning(
                            "observer %s: stream silent for %ss; restarting it", account, silence
                        )
                    return processed
                except StopAsyncIteration:
                    return processed
                await self.process(account, [record])
                processed += 1
        except (StellarConnectionError, BaseRequestError) as error:
            log.warning("observer %s: stream dropped (%s); resuming", account, type(error).__name__)
            return processed
        finally:
            await stream.aclose()

    async def _cursor(self, account: str) -> str:
        async with self.context.sessions() as session:
            row = await session.get(StellarCursor, account)
            return row.cursor if row is not None else ""

    # -- matching -----------------------------------------------------------------------------

    async def process(self, account: str, records: list[dict[str, Any]]) -> int:
        """Match ``records`` and advance the cursor past them, in one database transaction."""
        payments = [p for r in records if (p := Payment.from_record(account, r)) is not None]
        async with self.context.sessions() as session:
            cursor = await session.get(StellarCursor, account)
            if cursor is None or cursor.leased_by != self.worker_id:
                log.warning("observer %s: lease lost; not recording this page", account)
                return 0
            candidates = await self._candidates(session, payments)
            matched = 0
            for payment in payments:
                matched += await self._match(session, payment, candidates)
            cursor.cursor = str(records[-1]["paging_token"])
            cursor.updated_at = utcnow()
            cursor.leased_until = utcnow() + self.lease
            await session.commit()
        if payments:
            log.info(
                "observer %s: %d payment(s), %d matched; cursor %s",
                account,
                len(payments),
                matched,
                records[-1]["paging_token"],
            )
        return matched

    async def _candidates(
        self, session: AsyncSession, payments: list[Payment]
    ) -> dict[tuple[str, str], Transaction]:
        """Withdrawals these payments could be for, in one query: by (account, memo)."""
        anchors = {p.account for p in payments} | {p.to_muxed for p in payments if p.to_muxed}
        memos = {p.memo[1] for p in payments if p.memo}
        if not anchors:
            return {}
        query = select(Transaction).where(
            Transaction.withdraw_anchor_account.in_(anchors),
            Transaction.kind.in_(WITHDRAWAL_KINDS),
        )
        query = query.where(
            Transaction.withdraw_memo.in_(memos) | Transaction.withdraw_memo.is_(None)
        )
        rows = (await session.scalars(query)).unique().all()
        found: dict[tuple[str, str], Transaction] = {}
        for row in rows:
            memo = canonical_memo(row.withdraw_memo_type, row.withdraw_memo)
            found[(row.withdraw_anchor_account or "", memo[1] if memo else "")] = row
        return found

    async def _match(
        self,
        session: AsyncSession,
        payment: Payment,
        candidates: dict[tuple[str, str], Transaction],
    ) -> int:
        if payment.asset_issuer is not None and payment.from_address == payment.asset_issuer:
            return 0  # the issuer minting to its distribution account, not a customer payment
        memo_value = payment.memo[1] if payment.memo else ""
        withdrawal = None
        if payment.to_muxed:
            withdrawal = candidates.get((payment.to_muxed, memo_value))
        if withdrawal is None:
            withdrawal = candidates.get((payment.account, memo_value)) if memo_value else None
        if withdrawal is None:
            return await self._unmatched(session, payment, None, "no withdrawal has this memo")
        expected_memo = canonical_memo(withdrawal.withdraw_memo_type, withdrawal.withdraw_memo)
        if expected_memo is not None and payment.memo != expected_memo:
            return await self._unmatched(session, payment, withdrawal, "memo type differs")
        asset = withdrawal.asset
        if (payment.asset_code, payment.asset_issuer) != (asset.code, asset.issuer):
            return await self._unmatched(
                session,
                payment,
                withdrawal,
                f"wrong asset {payment.asset_code}:{payment.asset_issuer}",
            )
        if withdrawal.status != "pending_user_transfer_start":
            return await self._unmatched(
                session, payment, withdrawal, f"withdrawal is {withdrawal.status}, not waiting"
            )
        withdrawal.from_address = payment.from_address
        withdrawal.stellar_transaction_id = payment.transaction_hash
        withdrawal.fee_bump_hash = payment.inner_hash
        withdrawal.paging_token = payment.paging_token
        verdict = self._amount_verdict(withdrawal, payment.amount)
        if verdict is not None:
            withdrawal.amount_in = payment.amount
            transition(
                session,
                withdrawal,
                verdict,
                reason=f"received {payment.amount} in {payment.transaction_hash}",
                message="The amount received is outside the accepted range; it will be refunded.",
            )
            await self._unmatched(session, payment, withdrawal, f"amount {verdict}; refund due")
            return 1
        if withdrawal.kind == "withdrawal-exchange":
            _exchange_amounts(withdrawal, payment.amount)
        else:
            fee = await fee_for("withdraw", asset, payment.amount, withdrawal.funding_method)
            withdrawal.amount_in = payment.amount
            withdrawal.amount_fee = fee
            withdrawal.amount_out = round_amount(payment.amount - fee, asset.significant_decimals)
        transition(
            session,
            withdrawal,
            "pending_anchor",
            reason=f"received {payment.amount} in {payment.transaction_hash} "
            f"at {payment.received_at.isoformat()}",
        )
        return 1

    @staticmethod
    def _amount_verdict(withdrawal: Transaction, received: Decimal) -> str | None:
        """``too_small``/``too_large`` when the payment cannot be accepted, else None."""
        asset = withdrawal.asset
        expected = withdrawal.amount_expected
        low, high = asset.withdrawal_min_amount, asset.withdrawal_max_amount
        if expected is not None:
            low_tolerated = expected * (1 - TOLERANCE)
            high_tolerated = expected * (1 + TOLERANCE)
            low = max(low, low_tolerated) if low is not None else low_tolerated
            high = min(high, high_tolerated) if high is not None else high_tolerated
        if low is not None and received < low:
            return "too_small"
        if high is not None and received > high:
            return "too_large"
        return None

    async def _unmatched(
        self,
        session: AsyncSession,
        payment: Payment,
        withdrawal: Transaction | None,
        reason: str,
    ) -> int:
        exists = await session.scalar(
            select(UnmatchedPayment.id).where(UnmatchedPayment.paging_token == payment.paging_token)
        )
        if exists is None:
            memo_type, memo = payment.memo_raw
            session.add(
                UnmatchedPayment(
                    paging_token=payment.paging_token,
                    account=payment.to_muxed or payment.account,
                    stellar_transaction_id=payment.transaction_hash,
                    from_address=payment.from_address,
                    amount=payment.amount,
                    asset_code=payment.asset_code,
                    asset_issuer=payment.asset_issuer,
                    memo=memo,
                    memo_type=memo_type,
                    transaction_id=withdrawal.id if withdrawal else None,
                    reason=reason,
                    received_at=payment.received_at,
                )
            )
            log.warning(
                "observer %s: payment %s kept as unmatched: %s",
                payment.account,
                payment.paging_token,
                reason,
            )
        return 0
