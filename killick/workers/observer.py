"""Watching the anchor's receiving accounts for withdrawal payments: none lost, none twice.

For each receiving account (an asset's distribution account), one process at a time
holds the cursor row under a lease. It catches up by pages, then streams; every page or
event is matched and the cursor advanced **in the same database transaction**, so a
crash replays from the last committed cursor and produces the same result. A payment
that matches no waiting withdrawal is kept as an ``UnmatchedPayment``, never dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from stellar_sdk.exceptions import BaseRequestError
from stellar_sdk.exceptions import ConnectionError as StellarConnectionError

from killick.columns import utcnow
from killick.context import Context
from killick.db import write_transaction
from killick.fees import fee_for
from killick.models import Asset, Event, StellarCursor, Transaction, UnmatchedPayment
from killick.money import round_amount
from killick.stellar.memos import canonical_memo
from killick.transactions import move
from killick.workers.leases import claim_ids

log = logging.getLogger(__name__)

PAGE = 200
PAGES_PER_PASS = 50
INCOMING_TYPES = ("payment", "path_payment_strict_send", "path_payment_strict_receive")
WITHDRAWAL_KINDS = ("withdrawal", "withdrawal-exchange")
TOLERANCE = Decimal("0.10")  # CHECKLIST S6-32: accept ±10% of the requested amount
_OUT_OF_RANGE = {
    True: "The amount received is outside the accepted range; it is being refunded.",
    False: "The amount received is outside the accepted range; the anchor will refund it.",
}


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
        """Process pages until the account's history is read; returns payments seen.

        The next page is read from Horizon while this one is written to the database:
        its cursor is this page's last paging token, known before the write.
        """
        seen = 0
        fetch = asyncio.create_task(self._page(account, await self._cursor(account)))
        try:
            for _ in range(PAGES_PER_PASS):
                try:
                    records = await fetch
                except BaseRequestError as error:
                    log.warning(
                        "observer %s: cannot read payments (%s)", account, type(error).__name__
                    )
                    return seen
                if not records:
                    return seen
                if len(records) == PAGE:
                    fetch = asyncio.create_task(
                        self._page(account, str(records[-1]["paging_token"]))
                    )
                if await self.process(account, records) is None:
                    return seen  # lease lost: another worker observes this account now
                seen += len(records)
                if len(records) < PAGE:
                    return seen
            return seen
        finally:
            if not fetch.done():
                fetch.cancel()
                with contextlib.suppress(asyncio.CancelledError, BaseRequestError):
                    await fetch

    async def _page(self, account: str, cursor: str) -> list[dict[str, Any]]:
        page = await self._builder(account, cursor).limit(PAGE).order(desc=False).call()
        return list(page["_embedded"]["records"])

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
                if await self.process(account, [record]) is None:
                    return processed
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

    async def process(self, account: str, records: list[dict[str, Any]]) -> int | None:
        """Match ``records`` and advance the cursor past them, in one database transaction.

        Returns how many withdrawals matched; None when this worker no longer holds the
        account's lease (nothing is written: the new holder reads the page again).

        The page is written with a few bulk statements (one UPDATE of the matched
        withdrawals, one INSERT of their outbox events, one of the unmatched payments),
        not one statement per row: that is what keeps a backlog draining at thousands of
        payments a second (docs/benchmarks.md).
        """
        payments = [p for r in records if (p := Payment.from_record(account, r)) is not None]
        now = utcnow()
        async with self.context.sessions() as session, write_transaction(session):
            # The write lock before reading (SQLite; PostgreSQL locks the rows it reads):
            # no other writer commits between this page's read and its write. Renewing
            # the lease first checks that we still hold it.
            held = await session.execute(
                update(StellarCursor)
                .where(StellarCursor.account == account, StellarCursor.leased_by == self.worker_id)
                .values(leased_until=now + self.lease)
            )
            if held.rowcount != 1:
                await session.rollback()
                log.warning("observer %s: lease lost; not recording this page", account)
                return None
            page = _PageWrites()
            if payments:
                candidates = await self._candidates(session, payments)
                session.expunge_all()  # detached: the page is written by bulk statements
                page.known_unmatched = await self._known_unmatched(session, payments)
                for payment in payments:
                    await self._match(page, payment, candidates)
                await page.write(session)
            await session.execute(
                update(StellarCursor)
                .where(StellarCursor.account == account)
                .values(cursor=str(records[-1]["paging_token"]), updated_at=now)
            )
            await session.commit()
        if payments:
            log.info(
                "observer %s: %d payment(s), %d matched; cursor %s",
                account,
                len(payments),
                len(page.moved),
                records[-1]["paging_token"],
            )
        return len(page.moved)

    async def _candidates(
        self, session: AsyncSession, payments: list[Payment]
    ) -> dict[tuple[str, str], Transaction]:
        """Withdrawals these payments could be for, in one query: by (account, memo).

        Locked on PostgreSQL (``FOR UPDATE``) until the page commits, so another worker's
        loop (expiry, an operator's change) cannot move one between our read and write.
        """
        muxed = {p.to_muxed for p in payments if p.to_muxed}
        anchors = {p.account for p in payments} | muxed
        memos = {p.memo[1] for p in payments if p.memo}
        # Two index lookups on (withdraw_anchor_account, withdraw_memo): by memo, and the
        # memo-less withdrawals of a muxed address.
        wanted = []
        if memos:
            wanted.append(
                Transaction.withdraw_anchor_account.in_(anchors)
                & Transaction.withdraw_memo.in_(memos)
            )
        if muxed:
            wanted.append(
                Transaction.withdraw_anchor_account.in_(muxed) & Transaction.withdraw_memo.is_(None)
            )
        if not wanted:
            return {}
        query = (
            select(Transaction)
            .where(Transaction.kind.in_(WITHDRAWAL_KINDS), or_(*wanted))
            .with_for_update(of=Transaction)
        )
        rows = (await session.scalars(query)).unique().all()
        found: dict[tuple[str, str], Transaction] = {}
        for row in rows:
            memo = canonical_memo(row.withdraw_memo_type, row.withdraw_memo)
            found[(row.withdraw_anchor_account or "", memo[1] if memo else "")] = row
        return found

    @staticmethod
    async def _known_unmatched(session: AsyncSession, payments: list[Payment]) -> set[str]:
        """Paging tokens of this page already kept as unmatched (a replayed page)."""
        tokens = [p.paging_token for p in payments]
        rows = await session.scalars(
            select(UnmatchedPayment.paging_token).where(UnmatchedPayment.paging_token.in_(tokens))
        )
        return set(rows.all())

    async def _match(
        self,
        page: _PageWrites,
        payment: Payment,
        candidates: dict[tuple[str, str], Transaction],
    ) -> None:
        if payment.asset_issuer is not None and payment.from_address == payment.asset_issuer:
            return  # the issuer minting to its distribution account, not a customer payment
        memo_value = payment.memo[1] if payment.memo else ""
        withdrawal = None
        if payment.to_muxed:
            withdrawal = candidates.get((payment.to_muxed, memo_value))
        if withdrawal is None:
            withdrawal = candidates.get((payment.account, memo_value)) if memo_value else None
        if withdrawal is None:
            page.unmatched(payment, None, "no withdrawal has this memo")
            return
        expected_memo = canonical_memo(withdrawal.withdraw_memo_type, withdrawal.withdraw_memo)
        if expected_memo is not None and payment.memo != expected_memo:
            page.unmatched(payment, withdrawal, "memo type differs")
            return
        asset = withdrawal.asset
        if (payment.asset_code, payment.asset_issuer) != (asset.code, asset.issuer):
            page.unmatched(
                payment, withdrawal, f"wrong asset {payment.asset_code}:{payment.asset_issuer}"
            )
            return
        if withdrawal.status != "pending_user_transfer_start":  # incl. paid earlier in this page
            page.unmatched(payment, withdrawal, f"withdrawal is {withdrawal.status}, not waiting")
            return
        was = withdrawal.status
        withdrawal.from_address = payment.from_address
        withdrawal.stellar_transaction_id = payment.transaction_hash
        withdrawal.fee_bump_hash = payment.inner_hash
        withdrawal.paging_token = payment.paging_token
        verdict = self._amount_verdict(withdrawal, payment.amount)
        if verdict is not None:
            # No payout at these terms: only what came in stands (the refunds loop, or
            # the operator, pays it back; killick/workers/refunds.py).
            withdrawal.amount_in = payment.amount
            withdrawal.amount_out = withdrawal.amount_fee = withdrawal.fee_details = None
            event = move(
                withdrawal,
                verdict,
                reason=f"received {payment.amount} in {payment.transaction_hash}",
                message=_OUT_OF_RANGE[self.settings.WITHDRAWAL_REFUNDS_AUTOMATIC],
            )
            page.moved_to(withdrawal, was, event)
            page.unmatched(payment, withdrawal, f"amount {verdict}; refund due")
            return
        if withdrawal.kind == "withdrawal-exchange":
            _exchange_amounts(withdrawal, payment.amount)
        else:
            fee = await fee_for("withdraw", asset, payment.amount, withdrawal.funding_method)
            withdrawal.amount_in = payment.amount
            withdrawal.amount_fee = fee
            withdrawal.amount_out = round_amount(payment.amount - fee, asset.significant_decimals)
        event = move(
            withdrawal,
            "pending_anchor",
            reason=f"received {payment.amount} in {payment.transaction_hash} "
            f"at {payment.received_at.isoformat()}",
        )
        page.moved_to(withdrawal, was, event)

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


# What matching a payment may change on a withdrawal (``move()`` and ``_match`` above).
_MATCH_COLUMNS = (
    "status",
    "updated_at",
    "started_at",
    "completed_at",
    "message",
    "user_action_required_by",
    "from_address",
    "stellar_transaction_id",
    "fee_bump_hash",
    "paging_token",
    "amount_in",
    "amount_out",
    "amount_fee",
    "fee_details",
)


@dataclass
class _PageWrites:
    """What matching one page decided, written by ``write()`` in bulk statements."""

    moved: dict[str, tuple[Transaction, str]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    unmatched_rows: list[dict[str, Any]] = field(default_factory=list)
    known_unmatched: set[str] = field(default_factory=set)

    def moved_to(self, withdrawal: Transaction, was: str, event: dict[str, Any]) -> None:
        self.moved[withdrawal.id] = (withdrawal, was)
        self.events.append(event)

    def unmatched(self, payment: Payment, withdrawal: Transaction | None, reason: str) -> None:
        """Keep the payment for the operator, with every detail (once: pages replay)."""
        if payment.paging_token in self.known_unmatched:
            return
        self.known_unmatched.add(payment.paging_token)
        memo_type, memo = payment.memo_raw
        self.unmatched_rows.append(
            {
                "paging_token": payment.paging_token,
                "account": payment.to_muxed or payment.account,
                "stellar_transaction_id": payment.transaction_hash,
                "from_address": payment.from_address,
                "amount": payment.amount,
                "asset_code": payment.asset_code,
                "asset_issuer": payment.asset_issuer,
                "memo": memo,
                "memo_type": memo_type,
                "transaction_id": withdrawal.id if withdrawal else None,
                "reason": reason,
                "received_at": payment.received_at,
                "created_at": utcnow(),
            }
        )
        log.warning(
            "observer %s: payment %s kept as unmatched: %s",
            payment.account,
            payment.paging_token,
            reason,
        )

    async def write(self, session: AsyncSession) -> None:
        if self.moved:
            await _update_matched(session, list(self.moved.values()))
            await session.execute(insert(Event.__table__), self.events)
        if self.unmatched_rows:
            await session.execute(insert(UnmatchedPayment.__table__), self.unmatched_rows)


async def _update_matched(session: AsyncSession, moved: list[tuple[Transaction, str]]) -> None:
    """Write a page's matched withdrawals, only where the status is still what we read.

    One executemany: asyncpg pipelines it, SQLite runs it in its C loop; each row is a
    primary-key lookup whatever the planner's statistics say. (A single ``UPDATE ...
    FROM unnest(arrays)`` was tried on PostgreSQL: on a table not yet analyzed the
    planner scanned the status index for every page, 10x slower.) A row whose status
    changed since we read it fails the page on SQLite, which reports the rowcount: it
    rolls back and is matched again on the next pass. PostgreSQL does not report it,
    but there the rows are locked since they were read.
    """
    table = Transaction.__table__
    # The SET clause comes from the rows' column keys; "_id"/"_was" bind the WHERE.
    statement = update(table).where(
        table.c.id == bindparam("_id"), table.c.status == bindparam("_was")
    )
    rows = [
        {"_id": txn.id, "_was": was} | {name: getattr(txn, name) for name in _MATCH_COLUMNS}
        for txn, was in moved
    ]
    result = await session.execute(statement, rows)
    if session.bind.dialect.supports_sane_multi_rowcount and result.rowcount != len(moved):
        raise RuntimeError("a withdrawal changed while its payment was being matched")
