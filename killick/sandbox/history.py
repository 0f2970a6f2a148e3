"""What Horizon's history database holds: closed ledgers, transactions and operations.

Records are plain dataclasses with ids in Horizon's TOID layout, so lists can be paged by
cursor with a binary search. Rendering to JSON lives in `records.py`.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar


def toid(ledger: int, tx_order: int = 0, op_index: int = 0) -> int:
    """Horizon's total-order id: (ledger << 32) | (tx_order << 12) | op_index."""
    return (ledger << 32) | (tx_order << 12) | op_index


@dataclass(slots=True)
class LedgerRecord:
    sequence: int
    hash: str
    prev_hash: str
    closed_at: int
    successful_transaction_count: int
    failed_transaction_count: int
    operation_count: int
    tx_set_operation_count: int
    total_coins: int
    fee_pool: int
    base_fee: int
    base_reserve: int
    protocol_version: int
    max_tx_set_size: int

    @property
    def id(self) -> int:
        return toid(self.sequence)


@dataclass
class TransactionRecord:
    hash: str
    ledger: int
    application_order: int
    closed_at: int
    source_account: str
    source_muxed: str | None
    source_muxed_id: int | None
    sequence: int
    fee_charged: int
    max_fee: int
    operation_count: int
    memo_type: str
    memo: str | None
    memo_bytes: str | None
    successful: bool
    envelope_xdr: str
    result_xdr: str
    signatures: list[str]
    valid_after: int | None
    valid_before: int | None
    tx_code: str
    op_codes: list[str]
    participants: set[str] = field(default_factory=set)
    fee_account: str = ""
    fee_account_muxed: str | None = None
    fee_account_muxed_id: int | None = None
    inner_hash: str | None = None
    """Set for fee bumps: `hash` is then the outer (fee bump) hash, as Horizon stores it."""
    inner_signatures: list[str] = field(default_factory=list)
    inner_max_fee: int = 0
    inner_tx_code: str | None = None

    @property
    def id(self) -> int:
        return toid(self.ledger, self.application_order)


@dataclass
class OperationRecord:
    transaction: TransactionRecord
    index: int
    """1-based position in the transaction, as in Horizon's ids."""
    type: str
    type_i: int
    source_account: str
    source_muxed: str | None
    source_muxed_id: int | None
    details: dict[str, Any]
    is_payment: bool
    participants: set[str] = field(default_factory=set)

    @property
    def id(self) -> int:
        return toid(self.transaction.ledger, self.transaction.application_order, self.index)


R = TypeVar("R", LedgerRecord, TransactionRecord, OperationRecord)


def page(
    records: list[R],
    *,
    cursor: int | None,
    descending: bool,
    limit: int,
    keep: Callable[[R], bool] = lambda _r: True,
) -> list[R]:
    """One page of `records` (sorted by id ascending) strictly after/before `cursor`."""
    return list(_take(_scan(records, cursor, descending), keep, limit))


def _scan(records: list[R], cursor: int | None, descending: bool) -> Iterator[R]:
    if descending:
        end = len(records) if cursor is None else bisect.bisect_left(records, cursor, key=_id)
        for i in range(end - 1, -1, -1):
            yield records[i]
    else:
        start = 0 if cursor is None else bisect.bisect_right(records, cursor, key=_id)
        for i in range(start, len(records)):
            yield records[i]


def _take(it: Iterator[R], keep: Callable[[R], bool], limit: int) -> Iterator[R]:
    taken = 0
    for record in it:
        if taken >= limit:
            return
        if keep(record):
            taken += 1
            yield record


def _id(record: LedgerRecord | TransactionRecord | OperationRecord) -> int:
    return record.id


class History:
    """Append-only history with per-account indexes."""

    def __init__(self) -> None:
        self.ledgers: list[LedgerRecord] = []
        self.transactions: list[TransactionRecord] = []
        self.operations: list[OperationRecord] = []
        self.tx_by_hash: dict[str, TransactionRecord] = {}
        self.ops_by_tx: dict[str, list[OperationRecord]] = {}
        self.tx_by_account: dict[str, list[TransactionRecord]] = {}
        self.ops_by_account: dict[str, list[OperationRecord]] = {}

    @property
    def latest_ledger(self) -> LedgerRecord:
        return self.ledgers[-1]

    def ledger(self, sequence: int) -> LedgerRecord | None:
        if 1 <= sequence <= len(self.ledgers):
            return self.ledgers[sequence - 1]
        return None

    def add_ledger(
        self,
        ledger: LedgerRecord,
        transactions: list[TransactionRecord],
        operations: list[OperationRecord],
    ) -> None:
        """Append one closed ledger; ledger sequence numbers start at 1 and have no gaps."""
        assert ledger.sequence == len(self.ledgers) + 1
        self.ledgers.append(ledger)
        for tx in transactions:
            self.transactions.append(tx)
            self.tx_by_hash[tx.hash] = tx
            if tx.inner_hash is not None:
                self.tx_by_hash[tx.inner_hash] = tx
            self.ops_by_tx[tx.hash] = []
            for account in tx.participants:
                self.tx_by_account.setdefault(account, []).append(tx)
        for op in operations:
            self.operations.append(op)
            self.ops_by_tx[op.transaction.hash].append(op)
            for account in op.participants:
                self.ops_by_account.setdefault(account, []).append(op)
