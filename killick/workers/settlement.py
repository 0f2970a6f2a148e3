"""Paying deposits on Stellar, exactly once.

The protocol (docs/workers.md):

1. Lease ``pending_anchor`` deposits; check each destination on the network.
2. Lease a channel account with no unresolved envelope; build one envelope for up to
   ``DEPOSIT_BATCH_SIZE`` deposits; **save the signed envelope and its hash** and move the
   deposits to ``pending_stellar`` in one database transaction; only then submit.
3. Whatever the answer — success, failure, timeout, 5xx, ``tx_bad_seq`` — the envelope is
   resolved by looking its hash up. Found: applied (successful or not: a failed
   transaction pays no one and its deposits go back to be rebuilt). Not found: it is
   abandoned and rebuilt **only** when a ledger that closed after its upper time bound is
   visible *and* the source account's sequence is still below the envelope's; if the
   sequence was used but the hash is not found, wait — never rebuild.

Refunds of withdrawal payments (``killick/workers/refunds.py``) travel in envelopes of
their own through the same protocol; an envelope's ``plan`` lists them under
``refunds``, and resolving it records them (``killick/refunds.py``).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from stellar_sdk import Keypair, ServerAsync, TransactionEnvelope
from stellar_sdk.exceptions import BadRequestError, BaseRequestError, NotFoundError

from killick.columns import utcnow
from killick.context import Context
from killick.integrations import call_hook, registry
from killick.models import Asset, ChannelAccount, Submission, Transaction
from killick.refunds import finish_refunds, release_refunds
from killick.stellar.destinations import Readiness, check_destinations
from killick.stellar.envelopes import (
    Action,
    PlannedDeposit,
    build_envelope,
    operations_for,
    read_result,
)
from killick.transactions import transition
from killick.workers.leases import claim_ids, claim_transactions, release

log = logging.getLogger(__name__)

DEPOSIT_KINDS = ("deposit", "deposit-exchange")
MAX_OPERATIONS = 100
RESUBMIT_AFTER = timedelta(seconds=5)
# Operation results that say the destination cannot receive now (not our envelope's fault).
DESTINATION_FAILURES = frozenset(
    {"op_no_trust", "op_line_full", "op_not_authorized", "op_no_destination"}
)


def _parse_time(value: str) -> int:
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())


@dataclass(frozen=True)
class SignedEnvelope:
    """An envelope built and signed, not saved yet."""

    envelope: TransactionEnvelope
    source: str  # the channel (or distribution) account it is sourced by
    sequence: int  # the envelope's own sequence number
    max_time: int

    @property
    def hash(self) -> str:
        return self.envelope.hash_hex()


@dataclass
class Resolution:
    """What resolving a saved envelope found."""

    state: str  # "applied", "abandoned", "waiting", "resubmitted"
    detail: str = ""


class Settlement:
    """The deposit settlement loop of one worker process."""

    name = "deposits"
    resubmit_after = RESUBMIT_AFTER

    def __init__(self, context: Context, worker_id: str, *, background: bool = False) -> None:
        """``background``: submit each envelope in a task of its own, so that a pass
        returns once its envelopes are saved and the next pass can use the channels still
        free while those wait for their ledger (``killick worker`` runs it so). Without
        it, a pass returns when its envelopes are resolved (simpler to drive in tests)."""
        self.context = context
        self.settings = context.settings
        self.worker_id = worker_id
        self.lease = timedelta(seconds=self.settings.WORKER_LEASE_SECONDS)
        self.background = background
        self._in_flight: set[asyncio.Task[int]] = set()

    @property
    def horizon(self) -> ServerAsync:
        return self.context.horizon()

    async def run_once(self) -> int:
        """Resolve what is outstanding, then pay what is waiting. Returns work done."""
        done = await self.resolve_outstanding()
        done += await self.pay_waiting()
        return done

    # -- resolving saved envelopes ------------------------------------------------------------

    async def resolve_outstanding(self) -> int:
        async with self.context.sessions() as session:
            hashes = await claim_ids(
                session,
                Submission.hash,
                Submission.claimed_by,
                Submission.claimed_until,
                conditions=[Submission.status == "pending"],
                owner=self.worker_id,
                now=utcnow(),
                lease=self.lease,
                limit=50,
                order_by=[Submission.created_at],
            )
        resolved = 0
        for envelope_hash in hashes:
            result = await self.resolve(envelope_hash)
            resolved += result.state in ("applied", "abandoned")
        return resolved

    async def resolve(self, envelope_hash: str) -> Resolution:
        """Look the envelope up and act on what the network shows (see module docstring)."""
        async with self.context.sessions() as session:
            submission = await session.get(Submission, envelope_hash)
            if submission is None or submission.status != "pending":
                return Resolution("applied", "already resolved")
            try:
                resolution = await self._resolve(session, submission)
            except BaseRequestError as error:
                resolution = Resolution("waiting", f"Horizon error: {type(error).__name__}")
            submission.claimed_by = None
            submission.claimed_until = None
            await session.commit()
        if resolution.state == "waiting":
            log.info("envelope %s: waiting (%s)", envelope_hash, resolution.detail)
        return resolution

    async def _resolve(self, session: AsyncSession, submission: Submission) -> Resolution:
        try:
            record = await self.horizon.transactions().transaction(submission.hash).call()
        except NotFoundError:
            record = None
        if record is not None:
            await self._finish_applied(session, submission, record)
            return Resolution("applied")
        latest = await self.horizon.ledgers().order(desc=True).limit(1).call()
        records = latest["_embedded"]["records"]
        latest_close = _parse_time(records[0]["closed_at"]) if records else 0
        try:
            account = await self.horizon.accounts().account_id(submission.source_account).call()
            account_sequence = int(account["sequence"])
        except NotFoundError:
            account_sequence = -1
        envelope_sequence = int(submission.sequence)
        if account_sequence >= envelope_sequence:
            return Resolution(
                "waiting", "the sequence number was used but the hash is not found yet"
            )
        if latest_close > submission.max_time:
            await self._abandon(session, submission)
            return Resolution("abandoned")
        now = utcnow()
        if (
            submission.last_submitted_at is None
            or now - submission.last_submitted_at > self.resubmit_after
        ):
            submission.submit_attempts += 1
            submission.last_submitted_at = now
            await session.commit()
            outcome = await self._submit(submission.envelope_xdr)
            if outcome is not None:
                await self._finish_applied(session, submission, outcome)
                return Resolution("applied")
            return Resolution("resubmitted")
        return Resolution("waiting", "within its time bounds")

    async def _submit(self, envelope_xdr: str) -> dict[str, Any] | None:
        """Submit; the transaction record when the answer proves it applied, else None."""
        envelope = TransactionEnvelope.from_xdr(
            envelope_xdr, self.settings.STELLAR_NETWORK_PASSPHRASE
        )
        try:
            return await self.horizon.submit_transaction(envelope, skip_memo_required_check=True)
        except BadRequestError as error:
            extras = (error.extras or {}) if hasattr(error, "extras") else {}
            codes = extras.get("result_codes", {})
            if codes.get("transaction") == "tx_failed" and extras.get("result_xdr"):
                # Applied as failed: the record carries what we need.
                return {
                    "hash": envelope.hash_hex(),
                    "successful": False,
                    "result_xdr": extras["result_xdr"],
                    "ledger": None,
                }
            log.info("submission answered %s; resolving by hash", codes or error.status)
            return None
        except BaseRequestError as error:
            log.info("submission answer unclear (%s); resolving by hash", type(error).__name__)
            return None

    async def _finish_applied(
        self, session: AsyncSession, submission: Submission, record: dict[str, Any]
    ) -> None:
        result = read_result(record["result_xdr"])
        successful = bool(record.get("successful", result.successful)) and result.successful
        deposits = await self._deposits_of(session, submission)
        completed: list[Transaction] = []
        for deposit_id, step in submission.plan["deposits"].items():
            deposit = deposits.get(deposit_id)
            if deposit is None:
                continue
            if successful:
                deposit.stellar_transaction_id = submission.hash
                if step["action"] == Action.CREATE_THEN_TRUST:
                    transition(session, deposit, "pending_trust", reason="account created")
                    continue
                balance_ids = [result.claimable_balance_ids[i] for i in step["operations"]]
                deposit.claimable_balance_id = next((b for b in balance_ids if b), None)
                transition(session, deposit, "completed", reason=f"paid in {submission.hash}")
                completed.append(deposit)
            else:
                codes = [
                    result.operation_codes[i]
                    for i in step["operations"]
                    if i < len(result.operation_codes)
                ]
                reason = f"{submission.hash} failed: {', '.join(codes)}"
                if DESTINATION_FAILURES.intersection(codes):
                    # Set the destination aside; the trust loop re-checks it.
                    deposit.envelope_hash = None
                    transition(session, deposit, "pending_anchor", reason=reason)
                    transition(session, deposit, "pending_trust", reason="destination not ready")
                else:
                    self._back_to_anchor(session, deposit, reason)
        refunded = await finish_refunds(
            session,
            submission,
            successful=successful,
            operation_codes=result.operation_codes,
            max_attempts=self.settings.DEPOSIT_MAX_SUBMISSION_ATTEMPTS,
        )
        submission.status = "applied"
        submission.successful = successful
        submission.ledger = record.get("ledger")
        submission.result_codes = {
            "transaction": result.transaction_code,
            "operations": result.operation_codes,
        }
        submission.resolved_at = utcnow()
        await self._free_channel(session, submission, used_sequence=True)
        await session.commit()
        log.info(
            "envelope %s applied (%s): %d deposit(s) completed, %d refund(s) paid",
            submission.hash,
            "successful" if successful else "failed",
            len(completed),
            refunded,
        )
        for deposit in completed:
            try:
                await call_hook(registry.deposit.after_deposit, deposit)
            except Exception:
                log.exception("after_deposit hook failed for %s", deposit.id)

    def _back_to_anchor(self, session: AsyncSession, deposit: Transaction, reason: str) -> None:
        deposit.envelope_hash = None
        deposit.submission_attempts += 1
        transition(session, deposit, "pending_anchor", reason=reason)
        if deposit.submission_attempts >= self.settings.DEPOSIT_MAX_SUBMISSION_ATTEMPTS:
            transition(
                session,
                deposit,
                "error",
                reason="too many failed submissions",
                message="The payment could not be made on Stellar; the anchor will review it.",
            )

    async def _abandon(self, session: AsyncSession, submission: Submission) -> None:
        deposits = await self._deposits_of(session, submission)
        for deposit in deposits.values():
            deposit.envelope_hash = None
            transition(
                session,
                deposit,
                "pending_anchor",
                reason=f"envelope {submission.hash} expired unapplied; rebuilding",
            )
        await release_refunds(session, submission)
        submission.status = "abandoned"
        submission.resolved_at = utcnow()
        await self._free_channel(session, submission, used_sequence=False)
        await session.commit()
        log.warning("envelope %s abandoned: provably never applied", submission.hash)

    async def _deposits_of(
        self, session: AsyncSession, submission: Submission
    ) -> dict[str, Transaction]:
        rows = await session.scalars(
            select(Transaction).where(
                Transaction.id.in_(list(submission.plan["deposits"])),
                Transaction.envelope_hash == submission.hash,
                Transaction.status == "pending_stellar",
            )
        )
        return {row.id: row for row in rows.unique().all()}

    async def _free_channel(
        self, session: AsyncSession, submission: Submission, *, used_sequence: bool
    ) -> None:
        channel = await session.get(ChannelAccount, submission.source_account)
        if channel is None:
            return
        if channel.pending_hash == submission.hash:
            channel.pending_hash = None
        if used_sequence:
            known = int(channel.last_sequence or 0)
            channel.last_sequence = str(max(known, int(submission.sequence)))

    # -- paying waiting deposits --------------------------------------------------------------

    async def pay_waiting(self) -> int:
        if self.background:
            channels = await self._free_channels()
            if channels == 0 and self._in_flight:
                # Every channel is busy: wait for one to come back, then look again.
                await asyncio.wait(
                    self._in_flight,
                    timeout=self.settings.WORKER_POLL_SECONDS,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                channels = await self._free_channels()
            if channels == 0:
                return 0
        else:
            channels = max(1, await self._channel_count())
        limit = self.settings.DEPOSIT_BATCH_SIZE * channels
        async with self.context.sessions() as session:
            deposits = await claim_transactions(
                session,
                owner=self.worker_id,
                now=utcnow(),
                lease=self.lease,
                limit=limit,
                statuses=["pending_anchor"],
                kinds=DEPOSIT_KINDS,
            )
            if not deposits:
                return 0
            by_asset: dict[int, list[Transaction]] = defaultdict(list)
            for deposit in deposits:
                by_asset[deposit.asset_id].append(deposit)
            batches: list[tuple[Asset, list[PlannedDeposit], tuple[str, str] | None]] = []
            for group in by_asset.values():
                batches += await self._plan(session, group)
            await session.commit()
        if self.background:
            for batch in batches:
                task = asyncio.create_task(self._pay_batch(*batch))
                self._in_flight.add(task)
                task.add_done_callback(self._landed)
            return sum(len(planned) for _, planned, _ in batches)
        results = await asyncio.gather(*(self._pay_batch(*batch) for batch in batches))
        return sum(results)

    def _landed(self, task: asyncio.Task[int]) -> None:
        """A background batch ended. Its envelope was saved before it was submitted, so
        whatever went wrong is resolved by hash later; here it is only logged."""
        self._in_flight.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error(
                "a settlement batch failed; its envelope is resolved by hash later",
                exc_info=task.exception(),
            )

    async def aclose(self) -> None:
        """Let the batches in flight finish (their submissions are bounded by Horizon's
        timeout); what is cut short is resolved by hash at the next start."""
        if self._in_flight:
            _, pending = await asyncio.wait(set(self._in_flight), timeout=60)
            for task in pending:
                task.cancel()

    async def _free_channels(self) -> int:
        """Source accounts a batch could lease now: channel accounts (or, with none, the
        distribution accounts' own rows; at least one before the first is made)."""
        configured = await self._channel_count()
        now = utcnow()
        async with self.context.sessions() as session:
            rows = await session.scalars(
                select(ChannelAccount.public_key).where(
                    ChannelAccount.seed_encrypted.is_not(None)
                    if configured
                    else ChannelAccount.seed_encrypted.is_(None),
                    ChannelAccount.pending_hash.is_(None),
                    or_(ChannelAccount.leased_until.is_(None), ChannelAccount.leased_until < now),
                )
            )
            free = len(rows.all())
            if not configured and free == 0:
                known = await session.scalar(select(func.count()).select_from(ChannelAccount))
                return 1 if not known else 0
            return free

    async def _channel_count(self) -> int:
        async with self.context.sessions() as session:
            rows = await session.scalars(
                select(ChannelAccount.public_key).where(ChannelAccount.seed_encrypted.is_not(None))
            )
            return len(rows.all())

    async def _plan(
        self, session: AsyncSession, deposits: list[Transaction]
    ) -> list[tuple[Asset, list[PlannedDeposit], tuple[str, str] | None]]:
        """Decide each deposit's action; those that cannot be paid now change status."""
        asset = deposits[0].asset
        if not asset.distribution_account or not asset.distribution_seed_encrypted:
            for deposit in deposits:
                log.error("asset %s has no distribution seed; deposit %s waits", asset, deposit.id)
            release(deposits)
            return []
        amounts: dict[str, Decimal] = {}
        for deposit in deposits:
            address = deposit.to_address or deposit.stellar_account
            amounts[address] = amounts.get(address, Decimal(0)) + (
                self._amount_out(deposit) or Decimal(0)
            )
        try:
            destinations = await check_destinations(self.horizon, asset, amounts)
        except BaseRequestError as error:
            log.warning("cannot check destinations (%s); will retry", type(error).__name__)
            release(deposits)
            return []
        plain: list[PlannedDeposit] = []
        batches: list[tuple[Asset, list[PlannedDeposit], tuple[str, str] | None]] = []
        for deposit in deposits:
            address = deposit.to_address or deposit.stellar_account
            destination = destinations[address]
            action = self._action(deposit, destination.readiness)
            amount = self._amount_out(deposit)
            if amount is None:
                release([deposit])
                transition(
                    session,
                    deposit,
                    "error",
                    reason="no amount to pay",
                    message="The deposit amount is unknown; the anchor will review it.",
                )
                continue
            if action is None:
                release([deposit])
                transition(
                    session,
                    deposit,
                    "pending_trust",
                    reason=f"destination not ready: {destination.readiness}",
                )
                continue
            planned = PlannedDeposit(deposit.id, action, address, destination.account, amount)
            if deposit.deposit_memo:
                memo = (deposit.deposit_memo_type or "text", deposit.deposit_memo)
                batches.append((asset, [planned], memo))
            else:
                plain.append(planned)
        chunk: list[PlannedDeposit] = []
        operations = 0
        for planned in plain:
            size = operations_for(planned.action)
            if operations + size > min(MAX_OPERATIONS, self.settings.DEPOSIT_BATCH_SIZE):
                batches.append((asset, chunk, None))
                chunk, operations = [], 0
            chunk.append(planned)
            operations += size
        if chunk:
            batches.append((asset, chunk, None))
        return batches

    def _action(self, deposit: Transaction, readiness: Readiness) -> Action | None:
        claimable = deposit.claimable_balance_supported
        if readiness == Readiness.READY:
            return Action.PAY
        if readiness == Readiness.NO_TRUST and claimable:
            return Action.CLAIMABLE
        if readiness == Readiness.NO_ACCOUNT and self.settings.ACCOUNT_CREATION_ENABLED:
            return Action.CREATE_AND_CLAIMABLE if claimable else Action.CREATE_THEN_TRUST
        return None

    @staticmethod
    def _amount_out(deposit: Transaction) -> Decimal | None:
        if deposit.amount_out is not None:
            return deposit.amount_out
        if deposit.amount_in is None:
            return None
        return deposit.amount_in - (deposit.amount_fee or Decimal(0))

    async def _pay_batch(
        self, asset: Asset, planned: list[PlannedDeposit], memo: tuple[str, str] | None
    ) -> int:
        ids = [p.deposit_id for p in planned]
        channel = await self._lease_channel(asset)
        if channel is None:
            await self._release_ids(ids)
            return 0
        try:
            envelope_hash = await self._save_envelope(asset, channel, planned, memo)
        except BaseRequestError as error:
            log.warning(
                "cannot build an envelope (%s: %s); will retry", type(error).__name__, error
            )
            await self._release_ids(ids)
            await self._release_channel(channel.public_key)
            return 0
        if envelope_hash is None:
            await self._release_channel(channel.public_key)
            return 0
        async with self.context.sessions() as session:
            submission = await session.get(Submission, envelope_hash)
            assert submission is not None
            envelope_xdr = submission.envelope_xdr
        outcome = await self._submit(envelope_xdr)
        if outcome is not None:
            async with self.context.sessions() as session:
                submission = await session.get(Submission, envelope_hash)
                if submission is not None and submission.status == "pending":
                    await self._finish_applied(session, submission, outcome)
        else:
            await self.resolve(envelope_hash)
        await self._release_channel(channel.public_key)
        return len(planned)

    async def _save_envelope(
        self,
        asset: Asset,
        channel: ChannelAccount,
        planned: list[PlannedDeposit],
        memo: tuple[str, str] | None,
    ) -> str | None:
        """Build, sign and save the envelope, moving its deposits to pending_stellar."""
        signed = await self._sign_envelope(asset, channel, planned, memo)
        envelope_hash = signed.hash
        plan: dict[str, Any] = {"deposits": {}}
        index = 0
        for item in planned:
            size = operations_for(item.action)
            plan["deposits"][item.deposit_id] = {
                "action": str(item.action),
                "operations": list(range(index, index + size)),
                "destination": item.destination,
                "amount": str(item.amount),
            }
            index += size
        async with self.context.sessions() as session:
            deposits = (
                (
                    await session.scalars(
                        select(Transaction).where(
                            Transaction.id.in_([p.deposit_id for p in planned]),
                            Transaction.claimed_by == self.worker_id,
                            Transaction.status == "pending_anchor",
                        )
                    )
                )
                .unique()
                .all()
            )
            if len(deposits) != len(planned):
                log.warning("lost the lease on some deposits; not submitting %s", envelope_hash)
                release(list(deposits))
                await session.commit()
                return None
            await self._store_submission(session, signed, plan, channel)
            for deposit in deposits:
                deposit.envelope_hash = envelope_hash
                deposit.submission_source = signed.source
                deposit.submission_sequence = str(signed.sequence)
                if deposit.amount_out is None:
                    deposit.amount_out = Decimal(plan["deposits"][deposit.id]["amount"])
                transition(session, deposit, "pending_stellar", reason=f"envelope {envelope_hash}")
            release(list(deposits))
            await session.commit()
        log.info(
            "envelope %s saved: %d deposit(s), source %s, sequence %d",
            envelope_hash,
            len(planned),
            signed.source,
            signed.sequence,
        )
        return envelope_hash

    async def _sign_envelope(
        self,
        asset: Asset,
        channel: ChannelAccount,
        planned: list[PlannedDeposit],
        memo: tuple[str, str] | None,
    ) -> SignedEnvelope:
        """Build and sign one envelope for ``planned`` on ``channel``'s next sequence."""
        cipher = self.context.cipher
        distribution = Keypair.from_secret(asset.distribution_seed(cipher) or "")
        source = (
            Keypair.from_secret(cipher.decrypt(channel.seed_encrypted))
            if channel.seed_encrypted
            else distribution
        )
        account = await self.horizon.accounts().account_id(source.public_key).call()
        sequence = max(int(account["sequence"]), int(channel.last_sequence or 0))
        base_fee = await self._base_fee()
        now = int(utcnow().timestamp())
        max_time = now + self.settings.SUBMISSION_TIME_BOUND_SECONDS
        envelope = build_envelope(
            source=source,
            sequence=sequence,
            distribution=distribution,
            asset_code=asset.code,
            asset_issuer=asset.issuer,
            planned=planned,
            memo=memo,
            base_fee=base_fee,
            min_time=0,
            max_time=max_time,
            network_passphrase=self.settings.STELLAR_NETWORK_PASSPHRASE,
            starting_balance=self.settings.ACCOUNT_CREATION_STARTING_BALANCE,
        )
        return SignedEnvelope(envelope, source.public_key, sequence + 1, max_time)

    async def _store_submission(
        self,
        session: AsyncSession,
        signed: SignedEnvelope,
        plan: dict[str, Any],
        channel: ChannelAccount,
    ) -> None:
        """Add the envelope's Submission and make it the channel's one in flight; the
        caller commits this with its transactions' changes, before any submit."""
        session.add(
            Submission(
                hash=signed.hash,
                source_account=signed.source,
                sequence=str(signed.sequence),
                max_time=signed.max_time,
                envelope_xdr=signed.envelope.to_xdr(),
                plan=plan,
                status="pending",
                submit_attempts=1,
                last_submitted_at=utcnow(),
                claimed_by=self.worker_id,
                claimed_until=utcnow() + self.lease,
            )
        )
        stored = await session.get(ChannelAccount, channel.public_key)
        assert stored is not None
        stored.pending_hash = signed.hash

    async def _base_fee(self) -> int:
        cap = self.settings.STELLAR_MAX_FEE_PER_OPERATION
        try:
            stats = await self.horizon.fee_stats().call()
            fee = max(int(stats["last_ledger_base_fee"]), int(stats["fee_charged"]["p70"]))
        except (BaseRequestError, KeyError, ValueError):
            fee = 100
        return min(fee, cap)

    async def _lease_channel(self, asset: Asset) -> ChannelAccount | None:
        configured = await self._channel_count()
        if configured == 0 and asset.distribution_account:
            await self._ensure_channel_row(asset.distribution_account)
        async with self.context.sessions() as session:
            condition = (
                ChannelAccount.seed_encrypted.is_not(None)
                if configured
                else ChannelAccount.public_key == asset.distribution_account
            )
            keys = await claim_ids(
                session,
                ChannelAccount.public_key,
                ChannelAccount.leased_by,
                ChannelAccount.leased_until,
                conditions=[condition, ChannelAccount.pending_hash.is_(None)],
                owner=self.worker_id,
                now=utcnow(),
                lease=self.lease,
                limit=1,
            )
            if not keys:
                return None
            return await session.get(ChannelAccount, keys[0])

    async def _ensure_channel_row(self, public_key: str) -> None:
        """The distribution account as its own channel (created once, by whoever is first)."""
        async with self.context.sessions() as session:
            if await session.get(ChannelAccount, public_key) is not None:
                return
            session.add(ChannelAccount(public_key=public_key))
            try:
                await session.commit()
            except IntegrityError:
                await session.rollback()

    async def _release_channel(self, public_key: str) -> None:
        async with self.context.sessions() as session:
            channel = await session.get(ChannelAccount, public_key)
            if channel is not None and channel.leased_by == self.worker_id:
                channel.leased_by = None
                channel.leased_until = None
                await session.commit()

    async def _release_ids(self, ids: list[str]) -> None:
        async with self.context.sessions() as session:
            rows = await session.scalars(
                select(Transaction).where(
                    Transaction.id.in_(ids), Transaction.claimed_by == self.worker_id
                )
            )
            release(list(rows.unique().all()))
            await session.commit()
