"""The transaction queue between submission and ledger close, with surge pricing.

Like stellar-core's queue: a ledger takes at most `max_ops` operations; when more are
waiting, the best bids per operation go first (keeping each account's sequence order) and
everyone included pays the lowest included bid. The queue itself holds a few ledgers' worth;
when it is full a new transaction must outbid the cheapest queued ones, which are evicted.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .envelope import ParsedTransaction

_arrivals = itertools.count()


@dataclass(eq=False)
class Pending:
    ptx: ParsedTransaction
    future: asyncio.Future[Any]
    queued_at_ledger: int
    arrival: int = field(default_factory=lambda: next(_arrivals))

    def answer(self, outcome: Any) -> None:
        """Resolve the submitter's wait (nobody waits for async submissions: harmless)."""
        if not self.future.done():
            self.future.set_result(outcome)


class QueueFull(Exception):
    """No amount of eviction makes room (core's TRY_AGAIN_LATER)."""


@dataclass
class Selection:
    included: list[Pending]
    """In arrival order, which keeps every account's sequence order."""
    surge_fee_per_op: int | None
    """Lowest included bid per operation when demand exceeded capacity, else None."""


def _bid(p: Pending) -> int:
    """Whole stroops bid per operation (what surge pricing compares and charges)."""
    return p.ptx.max_fee // max(p.ptx.fee_operations, 1)


class TransactionQueue:
    def __init__(self) -> None:
        self._items: dict[bytes, Pending] = {}
        self._by_source: dict[str, list[Pending]] = {}
        self._fees_by_payer: dict[str, int] = {}
        self._ops = 0

    def __len__(self) -> int:
        return len(self._items)

    @property
    def operations(self) -> int:
        return self._ops

    def get(self, tx_hash: bytes) -> Pending | None:
        return self._items.get(tx_hash)

    def items(self) -> list[Pending]:
        return list(self._items.values())

    def count_from(self, source_id: str) -> int:
        return len(self._by_source.get(source_id, ()))

    def fees_from(self, payer_id: str) -> int:
        return self._fees_by_payer.get(payer_id, 0)

    def add(self, item: Pending) -> None:
        ptx = item.ptx
        self._items[ptx.hash] = item
        self._by_source.setdefault(ptx.source_id, []).append(item)
        payer = ptx.fee_source_id
        self._fees_by_payer[payer] = self._fees_by_payer.get(payer, 0) + ptx.max_fee
        self._ops += ptx.fee_operations

    def remove(self, item: Pending) -> None:
        ptx = item.ptx
        if self._items.pop(ptx.hash, None) is None:
            return
        chain = self._by_source[ptx.source_id]
        chain.remove(item)
        if not chain:
            del self._by_source[ptx.source_id]
        payer = ptx.fee_source_id
        left = self._fees_by_payer[payer] - ptx.max_fee
        if left:
            self._fees_by_payer[payer] = left
        else:
            del self._fees_by_payer[payer]
        self._ops -= ptx.fee_operations

    def drain(self) -> list[Pending]:
        items = self.items()
        for item in items:
            self.remove(item)
        return items

    def make_room(self, ptx: ParsedTransaction, limit: int) -> list[Pending] | int:
        """Evict cheaper transactions so `ptx` fits under `limit` operations.

        Returns the evicted ones (already removed), or the fee `ptx` would have to bid to
        get in (nothing is evicted then). Raises QueueFull when it can never fit.
        """
        need = ptx.fee_operations
        if self._ops + need <= limit:
            return []
        if need > limit:
            raise QueueFull
        bid = ptx.max_fee // need
        victims: list[Pending] = []
        freed = 0
        for candidate in sorted(self._items.values(), key=lambda p: (_bid(p), -p.arrival)):
            if candidate in victims or candidate.ptx.source_id == ptx.source_id:
                continue  # an account's own earlier transactions cannot be pushed out
            if _bid(candidate) >= bid:
                return (_bid(candidate) + 1) * need
            # Evicting one means evicting its account's later transactions too.
            chain = self._by_source[candidate.ptx.source_id]
            for item in chain[chain.index(candidate) :]:
                if item not in victims:
                    victims.append(item)
                    freed += item.ptx.fee_operations
            if self._ops - freed + need <= limit:
                for item in victims:
                    self.remove(item)
                return victims
        raise QueueFull


def select_for_ledger(items: Iterable[Pending], max_ops: int) -> Selection:
    """Pick what the next ledger takes: everything if it fits, else the best bids."""
    queued = list(items)
    if sum(p.ptx.fee_operations for p in queued) <= max_ops:
        return Selection(queued, None)
    chains: dict[str, list[Pending]] = {}
    for item in queued:
        chains.setdefault(item.ptx.source_id, []).append(item)
    heap = [(-_bid(chain[0]), chain[0].arrival, source, 0) for source, chain in chains.items()]
    heapq.heapify(heap)
    chosen: set[int] = set()
    used = 0
    lowest: int | None = None
    while heap and used < max_ops:
        _, _, source, position = heapq.heappop(heap)
        item = chains[source][position]
        ops = item.ptx.fee_operations
        if used + ops > max_ops:
            continue  # too big for what is left; the account's later ones wait behind it
        chosen.add(item.arrival)
        used += ops
        bid = _bid(item)
        lowest = bid if lowest is None else min(lowest, bid)
        if position + 1 < len(chains[source]):
            follower = chains[source][position + 1]
            heapq.heappush(heap, (-_bid(follower), follower.arrival, source, position + 1))
    return Selection([p for p in queued if p.arrival in chosen], lowest)
