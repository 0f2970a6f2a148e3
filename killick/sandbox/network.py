"""The sandbox network: ledger state, the transaction queue and ledger closes.

Everything runs on one asyncio loop. A ledger close is synchronous code between awaits, so
readers never see a half-applied ledger.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import logging
import os
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
from .ledger_apply import TransactionApplier
from .persistence import FORMAT, Header, LedgerFrame, StateJournal
from .problems import HorizonProblem
from .rates import RateTable
from .results import InnerResult, transaction_result_xdr
from .state import Account, ClaimableBalance, LedgerState, LedgerView, apply_changes
from .txqueue import Pending, QueueFull, TransactionQueue, select_for_ledger
from .validation import LedgerContext, Rejection, check_transaction, minimum_fee

logger = logging.getLogger(__name__)

TOTAL_COINS = to_stroops("100000000000")
PROTOCOL_VERSION = 22
DEFAULT_MAX_OPS_PER_LEDGER = 1000


@dataclass
class NetworkConfig:
    network_passphrase: str = Network.TESTNET_NETWORK_PASSPHRASE
    ledger_seconds: float = 1.0
    base_fee: int = 100
    base_reserve: int = 5_000_000
    friendbot_amount: Decimal = Decimal("10000")
    submission_timeout: float = 30.0
    keepalive_seconds: float = 10.0
    max_ops_per_ledger: int = DEFAULT_MAX_OPS_PER_LEDGER
    """Operations a ledger takes at most (pubnet: about 1,000); the rest wait in the queue."""
    queue_ledgers: int = 4
    """A queued transaction not included within this many ledgers is dropped (core: 4)."""
    queue_size_ledgers: int = 2
    """The queue holds this many ledgers' worth of operations (core's size multiplier: 2)."""


@dataclass
class _Versions:
    """Account versions by ledger, kept for the lag fault.

    Committed Account objects are never mutated (views copy before writing), so keeping
    references is enough.
    """

    by_account: dict[str, list[tuple[int, Account | None]]] = field(default_factory=dict)

    def record(self, ledger: int, account_id: str, account: Account | None) -> None:
        versions = self.by_account.setdefault(account_id, [])
        versions.append((ledger, account))
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
        max_ops_per_ledger: int = DEFAULT_MAX_OPS_PER_LEDGER,
        queue_ledgers: int = 4,
        state_file: str | os.PathLike[str] | None = None,
    ) -> None:
        if ledger_seconds <= 0:
            raise ValueError("ledger_seconds must be positive")
        if max_ops_per_ledger < 1:
            raise ValueError("max_ops_per_ledger must be at least 1")
        self.config = NetworkConfig(
            network_passphrase=network_passphrase,
            ledger_seconds=ledger_seconds,
            base_fee=base_fee,
            base_reserve=base_reserve,
            friendbot_amount=friendbot_amount,
            submission_timeout=submission_timeout,
            keepalive_seconds=keepalive_seconds,
            max_ops_per_ledger=max_ops_per_ledger,
            queue_ledgers=queue_ledgers,
        )
        self.faults = Faults()
        self.rates = RateTable()
        """Conversion rates path payments use (`rates.set(sell, buy, price)`)."""
        self.state = LedgerState()
        self.history = History()
        self.queue = TransactionQueue()
        self._versions = _Versions()
        self._close_lock = asyncio.Lock()
        self._new_ledger = asyncio.Event()
        self._ticker: asyncio.Task[None] | None = None
        self.closing = False
        self.open_streams = 0
        """SSE streams currently connected (useful to tests and to the admin view)."""
        seed = hashlib.sha256(network_passphrase.encode()).digest()
        self.root_keypair = Keypair.from_raw_ed25519_seed(seed)
        self._journal: StateJournal | None = None
        self._journaled_rates: list[dict[str, object]] = []
        if state_file is None:
            self._genesis()
        else:
            self._load_state(state_file)

    @property
    def network_passphrase(self) -> str:
        return self.config.network_passphrase

    @property
    def accounts(self) -> dict[str, Account]:
        return self.state.accounts

    @property
    def claimable_balances(self) -> dict[str, ClaimableBalance]:
        return self.state.claimable_balances

    # ----- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Start closing ledgers every `ledger_seconds`."""
        self.closing = False
        if self._ticker is None:
            self._ticker = asyncio.create_task(self._tick(), name="sandbox-ledger-ticker")

    async def stop(self) -> None:
        """Stop the ledger timer, end open streams and flush the state file."""
        self.closing = True
        self._wake_streams()
        # Submissions still waiting for a ledger get Horizon's timeout answer.
        for item in self.queue.drain():
            item.answer(problems.timeout())
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        if self._journal is not None:
            self._journal.close()
            self._journal = None

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
        pending = self.queue.get(ptx.hash)
        if pending is None:
            try:
                pending = self._enqueue(ptx)
            except QueueFull:
                raise problems.try_again_later() from None
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

    def submit_async(self, envelope_xdr: str) -> tuple[int, dict[str, str]]:
        """Horizon's POST /transactions_async: core's verdict at once, (status, body)."""
        ptx = self._parse(envelope_xdr)
        if self.queue.get(ptx.hash) is not None:
            return 409, {"tx_status": "DUPLICATE", "hash": ptx.hash_hex}
        try:
            self._enqueue(ptx)
        except QueueFull:
            return 503, {"tx_status": "TRY_AGAIN_LATER", "hash": ptx.hash_hex}
        except HorizonProblem as problem:
            result = (problem.extras or {}).get("result_xdr", "")
            return 400, {
                "tx_status": "ERROR",
                "hash": ptx.hash_hex,
                "error_result_xdr": result,
            }
        return 201, {"tx_status": "PENDING", "hash": ptx.hash_hex}

    def _parse(self, envelope_xdr: str) -> ParsedTransaction:
        try:
            return parse_envelope(envelope_xdr, self.network_passphrase)
        except UnsupportedEnvelope:
            result = transaction_result_xdr(self.config.base_fee, "tx_not_supported")
            raise problems.transaction_failed(
                envelope_xdr, result, "tx_not_supported", None
            ) from None

    def _enqueue(self, ptx: ParsedTransaction) -> Pending:
        """Check a new transaction against state plus queue, then queue it (or refuse it)."""
        if self.faults.take_bad_seq():
            raise _rejection_problem(ptx, Rejection("tx_bad_seq"), self.config.base_fee)
        rejection = check_transaction(
            ptx,
            LedgerView(self.state),
            self._next_ledger_context(),
            sequence_offset=self.queue.count_from(ptx.source_id),
            fees_already_queued=self.queue.fees_from(ptx.fee_source_id),
        )
        if rejection is not None:
            raise _rejection_problem(ptx, rejection, self.config.base_fee)
        limit = self.config.max_ops_per_ledger * self.config.queue_size_ledgers
        room = self.queue.make_room(ptx, limit)
        if isinstance(room, int):
            # Core's answer when a full queue holds only better bids: the fee needed.
            raise _rejection_problem(ptx, Rejection("tx_insufficient_fee", fee_charged=room), 0)
        for evicted in room:
            evicted.answer(problems.timeout())
        pending = Pending(ptx, asyncio.get_running_loop().create_future(), self._ledger_now())
        self.queue.add(pending)
        return pending

    def _ledger_now(self) -> int:
        return self.latest_ledger.sequence

    def set_limits(
        self, max_ops_per_ledger: int | None = None, queue_ledgers: int | None = None
    ) -> None:
        """Change the network limits from the next ledger on."""
        if max_ops_per_ledger is not None:
            if int(max_ops_per_ledger) < 1:
                raise ValueError("max_ops_per_ledger must be at least 1")
            self.config.max_ops_per_ledger = int(max_ops_per_ledger)
        if queue_ledgers is not None:
            if int(queue_ledgers) < 1:
                raise ValueError("queue_ledgers must be at least 1")
            self.config.queue_ledgers = int(queue_ledgers)

    def describe_limits(self) -> dict[str, int]:
        return {
            "max_ops_per_ledger": self.config.max_ops_per_ledger,
            "queue_ledgers": self.config.queue_ledgers,
            "queue_size_ledgers": self.config.queue_size_ledgers,
            "queued_transactions": len(self.queue),
            "queued_operations": self.queue.operations,
        }

    @property
    def pending_count(self) -> int:
        """Transactions queued for the next ledgers."""
        return len(self.queue)

    def next_sequence(self, account_id: str) -> int:
        """The sequence number the next queued transaction from `account_id` must use."""
        account = self.accounts[account_id]
        return account.sequence + 1 + self.queue.count_from(account_id)

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
            # Friendbot outbids any surge so funding never waits behind a test's load.
            base_fee=self.config.base_fee * 1000,
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
        """Close a ledger now, taking the best-paying queued transactions that fit."""
        async with self._close_lock:
            # A close allocates many small objects; the collector's passes over the whole
            # (growing) history would cost more than the close itself, so it waits.
            collecting = gc.isenabled()
            gc.disable()
            try:
                return self._close()
            finally:
                if collecting:
                    gc.enable()

    def _close(self) -> LedgerRecord:
        ctx = self._next_ledger_context()
        previous = self.latest_ledger
        selection = select_for_ledger(self.queue.items(), self.config.max_ops_per_ledger)
        fee_per_op = max(ctx.base_fee, selection.surge_fee_per_op or 0)
        view = LedgerView(self.state)
        applier = TransactionApplier(
            view, ctx, self.rates, self.root_keypair.public_key, fee_per_op
        )
        transactions: list[TransactionRecord] = []
        operations: list[OperationRecord] = []
        outcomes: list[tuple[Pending, TransactionRecord | HorizonProblem]] = []
        fee_pool = previous.fee_pool
        for item in selection.included:
            self.queue.remove(item)
            rejection = check_transaction(item.ptx, view, ctx)
            if rejection is not None:
                problem = _rejection_problem(item.ptx, rejection, ctx.base_fee)
                outcomes.append((item, problem))
                continue
            tx_record, op_records = applier.apply(item.ptx, len(transactions) + 1)
            fee_pool += tx_record.fee_charged
            transactions.append(tx_record)
            operations.extend(op_records)
            outcomes.append((item, tx_record))
        outcomes.extend(self._expire_waiting(ctx))
        changed_accounts, changed_balances = view.commit()
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
            max_tx_set_size=self.config.max_ops_per_ledger,
        )
        self._record_ledger(ledger, transactions, operations, changed_accounts, changed_balances)
        self._journal_ledger(ledger, transactions, operations, changed_accounts, changed_balances)
        for item, outcome in outcomes:
            item.answer(outcome)
        self._wake_streams()
        return ledger

    def _expire_waiting(self, ctx: LedgerContext) -> list[tuple[Pending, HorizonProblem]]:
        """Drop queued transactions that can no longer get in, as core's queue does."""
        dropped: list[tuple[Pending, HorizonProblem]] = []
        for item in list(self.queue.items()):
            if ctx.ledger_sequence - item.queued_at_ledger > self.config.queue_ledgers:
                # Core bans it; Horizon's synchronous submitter eventually times out.
                dropped.append((item, problems.timeout()))
            elif _too_late(item.ptx, ctx):
                rejection = Rejection("tx_too_late")
                dropped.append((item, _rejection_problem(item.ptx, rejection, ctx.base_fee)))
            else:
                continue
            self.queue.remove(item)
        return dropped

    def _record_ledger(
        self,
        ledger: LedgerRecord,
        transactions: list[TransactionRecord],
        operations: list[OperationRecord],
        accounts: dict[str, Account | None],
        balances: dict[str, ClaimableBalance | None],
    ) -> None:
        self.history.add_ledger(ledger, transactions, operations)
        for account_id, account in accounts.items():
            self._versions.record(ledger.sequence, account_id, account)

    # ----- persistence -----------------------------------------------------------------

    def _load_state(self, path: str | os.PathLike[str]) -> None:
        journal = StateJournal(path)
        header, frames = journal.read()
        if header is None:
            self._genesis()
            journal.open(Header(FORMAT, self.network_passphrase))
            self._journal = journal
            genesis = self.latest_ledger
            self._journal.append(
                LedgerFrame(genesis, [], [], dict(self.state.accounts), {}, rates=[])
            )
            return
        if header.network_passphrase != self.network_passphrase:
            raise ValueError(
                f"{path} holds a network with passphrase {header.network_passphrase!r}"
            )
        for frame in frames:
            apply_changes(self.state, frame.accounts, frame.balances)
            self.history.add_ledger(frame.ledger, frame.transactions, frame.operations)
            if frame.rates is not None:
                self.rates.clear()
                self.rates.load(frame.rates)
        if not self.history.ledgers:
            raise ValueError(f"{path} holds no ledgers")
        self._journaled_rates = self.rates.describe()
        latest = self.latest_ledger.sequence
        for account_id, account in self.accounts.items():
            self._versions.record(latest, account_id, account)
        journal.open(None)
        self._journal = journal

    def _journal_ledger(
        self,
        ledger: LedgerRecord,
        transactions: list[TransactionRecord],
        operations: list[OperationRecord],
        accounts: dict[str, Account | None],
        balances: dict[str, ClaimableBalance | None],
    ) -> None:
        if self._journal is None:
            return
        rates = self.rates.describe()
        changed_rates = rates if rates != self._journaled_rates else None
        self._journaled_rates = rates
        frame = LedgerFrame(ledger, transactions, operations, accounts, balances, changed_rates)
        self._journal.append(frame)

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
            max_tx_set_size=self.config.max_ops_per_ledger,
        )
        self.history.add_ledger(genesis, [], [])
        self._versions.record(1, root.account_id, root)

    def _wake_streams(self) -> None:
        self._new_ledger.set()
        self._new_ledger = asyncio.Event()


def _too_late(ptx: ParsedTransaction, ctx: LedgerContext) -> bool:
    pre = ptx.tx.preconditions
    if pre is None:
        return False
    if pre.time_bounds is not None and pre.time_bounds.max_time:
        if ctx.close_time > pre.time_bounds.max_time:
            return True
    return bool(
        pre.ledger_bounds is not None
        and pre.ledger_bounds.max_ledger
        and ctx.ledger_sequence >= pre.ledger_bounds.max_ledger
    )


def _record_or_raise(record: TransactionRecord) -> TransactionRecord:
    if record.successful:
        return record
    raise problems.transaction_failed(
        record.envelope_xdr,
        record.result_xdr,
        record.tx_code,
        record.op_codes,
        record.inner_tx_code,
    )


def _rejection_problem(
    ptx: ParsedTransaction, rejection: Rejection, base_fee: int
) -> HorizonProblem:
    """The 400 transaction_failed answer for a refused transaction (nothing charged)."""
    fee = rejection.fee_charged
    if fee is None:
        fee = minimum_fee(ptx, base_fee)
    inner = None
    if rejection.inner_code is not None:
        inner = InnerResult(ptx.inner_hash, rejection.inner_code)
    result = transaction_result_xdr(fee, rejection.tx_code, rejection.op_outcomes, inner)
    return problems.transaction_failed(
        ptx.envelope_xdr, result, rejection.tx_code, rejection.op_codes, rejection.inner_code
    )


def _ledger_hash(prev_hash: str, ctx: LedgerContext, txs: list[TransactionRecord]) -> str:
    digest = hashlib.sha256()
    digest.update(bytes.fromhex(prev_hash))
    digest.update(ctx.ledger_sequence.to_bytes(4, "big"))
    digest.update(ctx.close_time.to_bytes(8, "big"))
    for tx in txs:
        digest.update(bytes.fromhex(tx.hash))
    return digest.hexdigest()
