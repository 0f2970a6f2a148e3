"""The sandbox network: ledger state, the submission queue and ledger closes.

Everything runs on one asyncio loop. A ledger close is synchronous code between awaits, so
readers never see a half-applied ledger.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import hashlib
import logging
import time
from dataclasses import dataclass, field
from decimal import Decimal

from stellar_sdk import Account as SdkAccount
from stellar_sdk import Keypair, Network, TransactionBuilder
from stellar_sdk.operation import CreateAccount

from . import problems
from .amounts import to_stroops
from .envelope import ParsedTransaction, UnsupportedEnvelope, parse_envelope
from .faults import MAX_LAG_LEDGERS, Faults
from .history import History, LedgerRecord, OperationRecord, TransactionRecord
from .memo import describe_memo
from .op_details import PAYMENT_TYPES, operation_details, operation_type
from .operations import ApplyContext, apply_operation
from .problems import HorizonProblem
from .results import transaction_result_xdr
from .state import Account, AccountView
from .validation import LedgerContext, Rejection, check_transaction, required_fee

logger = logging.getLogger(__name__)

TOTAL_COINS = to_stroops("100000000000")
PROTOCOL_VERSION = 22
MAX_TX_SET_SIZE = 1000


@dataclass
class _Pending:
    ptx: ParsedTransaction
    future: asyncio.Future[TransactionRecord | HorizonProblem]


@dataclass
class NetworkConfig:
    network_passphrase: str = Network.TESTNET_NETWORK_PASSPHRASE
    ledger_seconds: float = 1.0
    base_fee: int = 100
    base_reserve: int = 5_000_000
    friendbot_amount: Decimal = Decimal("10000")
    submission_timeout: float = 30.0
    keepalive_seconds: float = 10.0


@dataclass
class _Versions:
    """Account versions by ledger, kept for the lag fault."""

    by_account: dict[str, list[tuple[int, Account | None]]] = field(default_factory=dict)

    def record(self, ledger: int, account_id: str, account: Account | None) -> None:
        versions = self.by_account.setdefault(account_id, [])
        versions.append((ledger, copy.deepcopy(account)))
        while len(versions) > 1 and versions[1][0] <= ledger - MAX_LAG_LEDGERS:
            versions.pop(0)

    def at(self, account_id: str, ledger: int) -> Account | None:
        for seq, account in reversed(self.by_account.get(account_id, [])):
            if seq <= ledger:
                return account
        return None


class SandboxNetwork:
    """A one-node Stellar network with Horizon-like behaviour, held in memory."""

    def __init__(
        self,
        network_passphrase: str = Network.TESTNET_NETWORK_PASSPHRASE,
        ledger_seconds: float = 1.0,
        *,
        base_fee: int = 100,
        base_reserve: int = 5_000_000,
        friendbot_amount: Decimal = Decimal("10000"),
        submission_timeout: float = 30.0,
        keepalive_seconds: float = 10.0,
    ) -> None:
        if ledger_seconds <= 0:
            raise ValueError("ledger_seconds must be positive")
        self.config = NetworkConfig(
            network_passphrase=network_passphrase,
            ledger_seconds=ledger_seconds,
            base_fee=base_fee,
            base_reserve=base_reserve,
            friendbot_amount=friendbot_amount,
            submission_timeout=submission_timeout,
            keepalive_seconds=keepalive_seconds,
        )
        self.faults = Faults()
        self.accounts: dict[str, Account] = {}
        self.history = History()
        self._versions = _Versions()
        self._pending: list[_Pending] = []
        self._close_lock = asyncio.Lock()
        self._new_ledger = asyncio.Event()
        self._ticker: asyncio.Task[None] | None = None
        self.closing = False
        self.open_streams = 0
        """SSE streams currently connected (useful to tests and to the admin view)."""
        seed = hashlib.sha256(network_passphrase.encode()).digest()
        self.root_keypair = Keypair.from_raw_ed25519_seed(seed)
        self._genesis()

    @property
    def network_passphrase(self) -> str:
        return self.config.network_passphrase

    # ----- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Start closing ledgers every `ledger_seconds`."""
        self.closing = False
        if self._ticker is None:
            self._ticker = asyncio.create_task(self._tick(), name="sandbox-ledger-ticker")

    async def stop(self) -> None:
        """Stop the ledger timer and end open streams."""
        self.closing = True
        self._wake_streams()
        # Submissions still waiting for a ledger get Horizon's timeout answer.
        pending, self._pending = self._pending, []
        for item in pending:
            if not item.future.done():
                item.future.set_result(problems.timeout())
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.config.ledger_seconds)
            try:
                await self.close_ledger()
            except Exception:  # a bug in one close must not stop the network
                logger.exception("ledger close failed")

    # ----- reads -----------------------------------------------------------------------

    @property
    def latest_ledger(self) -> LedgerRecord:
        return self.history.latest_ledger

    def visible_ledger_sequence(self) -> int:
        """Latest ledger as a lagging Horizon would report it."""
        return max(1, self.latest_ledger.sequence - self.faults.lag_ledgers)

    def visible_account(self, account_id: str) -> Account | None:
        if self.faults.lag_ledgers == 0:
            return self.accounts.get(account_id)
        return self._versions.at(account_id, self.visible_ledger_sequence())

    def visible_transaction(self, tx_hash: str) -> TransactionRecord | None:
        record = self.history.tx_by_hash.get(tx_hash)
        if record is None or record.ledger > self.visible_ledger_sequence():
            return None
        return record

    async def wait_for_ledger(self, seconds: float) -> None:
        """Return when a ledger closes, the network stops, or `seconds` pass."""
        event = self._new_ledger
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), seconds)

    # ----- submission ------------------------------------------------------------------

    async def submit(self, envelope_xdr: str) -> TransactionRecord:
        """Horizon's synchronous POST /transactions: wait for the ledger, then answer.

        Raises HorizonProblem for everything Horizon answers with an error.
        """
        ptx = self._parse(envelope_xdr)
        known = self.history.tx_by_hash.get(ptx.hash_hex)
        if known is not None:
            return _record_or_raise(known)
        pending = next((p for p in self._pending if p.ptx.hash == ptx.hash), None)
        if pending is None:
            pending = self._enqueue(ptx)
            if self.faults.take_submit_timeout():
                raise problems.timeout()
        try:
            outcome = await asyncio.wait_for(
                asyncio.shield(pending.future), self.config.submission_timeout
            )
        except TimeoutError:
            raise problems.timeout() from None
        if isinstance(outcome, HorizonProblem):
            raise outcome
        return _record_or_raise(outcome)

    def _parse(self, envelope_xdr: str) -> ParsedTransaction:
        try:
            return parse_envelope(envelope_xdr, self.network_passphrase)
        except UnsupportedEnvelope:
            result = transaction_result_xdr(self.config.base_fee, "tx_not_supported")
            raise problems.transaction_failed(
                envelope_xdr, result, "tx_not_supported", None
            ) from None

    def _enqueue(self, ptx: ParsedTransaction) -> _Pending:
        fee = required_fee(ptx, self.config.base_fee)
        if self.faults.take_bad_seq():
            raise _rejection_problem(ptx, Rejection("tx_bad_seq"), fee)
        queued = [p for p in self._pending if p.ptx.source_id == ptx.source_id]
        rejection = check_transaction(
            ptx,
            AccountView(self.accounts),
            self._next_ledger_context(),
            sequence_offset=len(queued),
            fees_already_queued=sum(p.ptx.max_fee for p in queued),
        )
        if rejection is not None:
            raise _rejection_problem(ptx, rejection, fee)
        pending = _Pending(ptx, asyncio.get_running_loop().create_future())
        self._pending.append(pending)
        return pending

    @property
    def pending_count(self) -> int:
        """Transactions queued for the next ledger."""
        return len(self._pending)

    def next_sequence(self, account_id: str) -> int:
        """The sequence number the next queued transaction from `account_id` must use."""
        account = self.accounts[account_id]
        queued = sum(1 for p in self._pending if p.ptx.source_id == account_id)
        return account.sequence + 1 + queued

    def _next_ledger_context(self) -> LedgerContext:
        latest = self.latest_ledger
        return LedgerContext(
            ledger_sequence=latest.sequence + 1,
            close_time=max(int(time.time()), latest.closed_at),
            base_fee=self.config.base_fee,
            base_reserve=self.config.base_reserve,
        )

    # ----- friendbot -------------------------------------------------------------------

    async def friendbot(self, address: str) -> TransactionRecord:
        """Create and fund `address` from the root account through a real transaction."""
        if address in self.accounts:
            raise HorizonProblem(
                400,
                "bad_request",
                "Bad Request",
                "account already funded to starting balance",
                {"invalid_field": "addr", "reason": "account already exists"},
            )
        root = self.root_keypair.public_key
        builder = TransactionBuilder(
            SdkAccount(root, self.next_sequence(root) - 1),
            network_passphrase=self.network_passphrase,
            base_fee=self.config.base_fee,
        )
        tx = (
            builder.append_operation(CreateAccount(address, str(self.config.friendbot_amount)))
            .set_timeout(300)
            .build()
        )
        tx.sign(self.root_keypair)
        return await self.submit(tx.to_xdr())

    # ----- ledger close ----------------------------------------------------------------

    async def close_ledger(self) -> LedgerRecord:
        """Close a ledger now, applying every queued transaction in arrival order."""
        async with self._close_lock:
            return self._close()

    def _close(self) -> LedgerRecord:
        ctx = self._next_ledger_context()
        previous = self.latest_ledger
        pending, self._pending = self._pending, []
        view = AccountView(self.accounts)
        transactions: list[TransactionRecord] = []
        operations: list[OperationRecord] = []
        outcomes: list[tuple[_Pending, TransactionRecord | HorizonProblem]] = []
        fee_pool = previous.fee_pool
        for item in pending:
            rejection = check_transaction(item.ptx, view, ctx)
            if rejection is not None:
                fee = required_fee(item.ptx, ctx.base_fee)
                outcomes.append((item, _rejection_problem(item.ptx, rejection, fee)))
                continue
            tx_record, op_records = self._apply(item.ptx, view, ctx, len(transactions) + 1)
            fee_pool += tx_record.fee_charged
            transactions.append(tx_record)
            operations.extend(op_records)
            outcomes.append((item, tx_record))
        changed = view.commit()
        ledger = LedgerRecord(
            sequence=ctx.ledger_sequence,
            hash=_ledger_hash(previous.hash, ctx, transactions),
            prev_hash=previous.hash,
            closed_at=ctx.close_time,
            successful_transaction_count=sum(1 for t in transactions if t.successful),
            failed_transaction_count=sum(1 for t in transactions if not t.successful),
            operation_count=sum(t.operation_count for t in transactions if t.successful),
            tx_set_operation_count=sum(t.operation_count for t in transactions),
            total_coins=TOTAL_COINS,
            fee_pool=fee_pool,
            base_fee=ctx.base_fee,
            base_reserve=ctx.base_reserve,
            protocol_version=PROTOCOL_VERSION,
            max_tx_set_size=MAX_TX_SET_SIZE,
        )
        self.history.add_ledger(ledger, transactions, operations)
        for account_id in changed:
            self._versions.record(ledger.sequence, account_id, self.accounts.get(account_id))
        for item, outcome in outcomes:
            if not item.future.done():
                item.future.set_result(outcome)
        self._wake_streams()
        return ledger

    def _apply(
        self, ptx: ParsedTransaction, view: AccountView, ctx: LedgerContext, order: int
    ) -> tuple[TransactionRecord, list[OperationRecord]]:
        fee = required_fee(ptx, ctx.base_fee)
        source = view.load(ptx.source_id)
        assert source is not None  # checked by check_transaction
        source.balance -= fee
        source.sequence = ptx.tx.sequence
        source.sequence_ledger = ctx.ledger_sequence
        source.sequence_time = ctx.close_time
        source.last_modified_ledger = ctx.ledger_sequence
        source.last_modified_time = ctx.close_time

        op_view = AccountView(view)
        apply_ctx = ApplyContext(op_view, ctx.ledger_sequence, ctx.close_time, ctx.base_reserve)
        op_outcomes = [
            apply_operation(apply_ctx, op, ptx.op_source_id(op)) for op in ptx.operations
        ]
        successful = all(o.success for o in op_outcomes)
        if successful:
            op_view.commit()
        tx_code = "tx_success" if successful else "tx_failed"
        memo_type, memo, memo_bytes = describe_memo(ptx.tx.memo)
        bounds = ptx.tx.preconditions.time_bounds if ptx.tx.preconditions else None
        tx_record = TransactionRecord(
            hash=ptx.hash_hex,
            ledger=ctx.ledger_sequence,
            application_order=order,
            closed_at=ctx.close_time,
            source_account=ptx.source_id,
            source_muxed=ptx.source.account_muxed,
            source_muxed_id=ptx.source.account_muxed_id,
            sequence=ptx.tx.sequence,
            fee_charged=fee,
            max_fee=ptx.max_fee,
            operation_count=len(ptx.operations),
            memo_type=memo_type,
            memo=memo,
            memo_bytes=memo_bytes,
            successful=successful,
            envelope_xdr=ptx.envelope_xdr,
            result_xdr=transaction_result_xdr(fee, tx_code, op_outcomes),
            signatures=[base64.b64encode(s.signature).decode() for s in ptx.envelope.signatures],
            valid_after=bounds.min_time if bounds else None,
            valid_before=bounds.max_time if bounds else None,
            tx_code=tx_code,
            op_codes=[o.code for o in op_outcomes],
            participants={ptx.source_id},
        )
        op_records = []
        for index, op in enumerate(ptx.operations, start=1):
            type_name, type_i = operation_type(op)
            op_source = op.source or ptx.source
            details, participants = operation_details(op, op_source.account_id, op_source)
            tx_record.participants |= participants
            op_records.append(
                OperationRecord(
                    transaction=tx_record,
                    index=index,
                    type=type_name,
                    type_i=type_i,
                    source_account=op_source.account_id,
                    source_muxed=op_source.account_muxed,
                    source_muxed_id=op_source.account_muxed_id,
                    details=details,
                    is_payment=type_name in PAYMENT_TYPES,
                    participants=participants,
                )
            )
        return tx_record, op_records

    def _genesis(self) -> None:
        root = Account(
            account_id=self.root_keypair.public_key,
            balance=TOTAL_COINS,
            sequence=0,
            last_modified_ledger=1,
        )
        closed_at = int(time.time())
        root.last_modified_time = closed_at
        self.accounts[root.account_id] = root
        genesis = LedgerRecord(
            sequence=1,
            hash=hashlib.sha256(self.network_passphrase.encode() + b"genesis").hexdigest(),
            prev_hash="0" * 64,
            closed_at=closed_at,
            successful_transaction_count=0,
            failed_transaction_count=0,
            operation_count=0,
            tx_set_operation_count=0,
            total_coins=TOTAL_COINS,
            fee_pool=0,
            base_fee=self.config.base_fee,
            base_reserve=self.config.base_reserve,
            protocol_version=PROTOCOL_VERSION,
            max_tx_set_size=MAX_TX_SET_SIZE,
        )
        self.history.add_ledger(genesis, [], [])
        self._versions.record(1, root.account_id, root)

    def _wake_streams(self) -> None:
        self._new_ledger.set()
        self._new_ledger = asyncio.Event()


def _record_or_raise(record: TransactionRecord) -> TransactionRecord:
    if record.successful:
        return record
    raise problems.transaction_failed(
        record.envelope_xdr, record.result_xdr, record.tx_code, record.op_codes
    )


def _rejection_problem(ptx: ParsedTransaction, rejection: Rejection, fee: int) -> HorizonProblem:
    result = transaction_result_xdr(fee, rejection.tx_code, rejection.op_outcomes)
    return problems.transaction_failed(
        ptx.envelope_xdr, result, rejection.tx_code, rejection.op_codes
    )


def _ledger_hash(prev_hash: str, ctx: LedgerContext, txs: list[TransactionRecord]) -> str:
    digest = hashlib.sha256()
    digest.update(bytes.fromhex(prev_hash))
    digest.update(ctx.ledger_sequence.to_bytes(4, "big"))
    digest.update(ctx.close_time.to_bytes(8, "big"))
    for tx in txs:
        digest.update(bytes.fromhex(tx.hash))
    return digest.hexdigest()
