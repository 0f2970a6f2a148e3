"""Decoding submitted envelopes (plain or fee bump) into what validation and apply need."""

from __future__ import annotations

import base64
import functools
import warnings
from dataclasses import dataclass, field

from stellar_sdk import (
    FeeBumpTransactionEnvelope,
    MuxedAccount,
    Network,
    Operation,
    Transaction,
    TransactionEnvelope,
    xdr,
)
from stellar_sdk.decorated_signature import DecoratedSignature

from . import fastdecode
from .problems import HorizonProblem, transaction_malformed


@dataclass
class FeeBump:
    """The outer part of a fee-bump envelope (CAP-15)."""

    hash: bytes
    fee_source: MuxedAccount
    fee: int
    signatures: list[DecoratedSignature]


@dataclass
class ParsedTransaction:
    """A submitted transaction with the network-specific hashes already computed.

    `hash` is what was submitted (the outer hash of a fee bump): the key for duplicates and
    the record's id. `inner_hash` is the v1 transaction's own hash, which its signatures sign.
    """

    envelope_xdr: str
    envelope: TransactionEnvelope
    inner_hash: bytes
    fee_bump: FeeBump | None = None
    operations: list[Operation] = field(init=False)

    def __post_init__(self) -> None:
        self.operations = list(self.envelope.transaction.operations)

    @property
    def hash(self) -> bytes:
        return self.fee_bump.hash if self.fee_bump else self.inner_hash

    @property
    def hash_hex(self) -> str:
        return self.hash.hex()

    @property
    def tx(self) -> Transaction:
        return self.envelope.transaction

    @property
    def source(self) -> MuxedAccount:
        return self.tx.source

    @property
    def source_id(self) -> str:
        return self.tx.source.account_id

    @property
    def fee_source(self) -> MuxedAccount:
        return self.fee_bump.fee_source if self.fee_bump else self.tx.source

    @property
    def fee_source_id(self) -> str:
        return self.fee_source.account_id

    def op_source_id(self, op: Operation) -> str:
        return op.source.account_id if op.source is not None else self.source_id

    @property
    def max_fee(self) -> int:
        """What the fee payer bids: the outer fee of a fee bump, else the transaction's fee."""
        return self.fee_bump.fee if self.fee_bump else int(self.tx.fee)

    @property
    def inner_max_fee(self) -> int:
        return int(self.tx.fee)

    @property
    def fee_operations(self) -> int:
        """Operations the fee is counted over (a fee bump counts as one more)."""
        return len(self.operations) + (1 if self.fee_bump else 0)

    @property
    def fee_rate(self) -> float:
        """Bid per operation: what surge pricing sorts by."""
        return self.max_fee / max(self.fee_operations, 1)


class UnsupportedEnvelope(Exception):
    """A well-formed envelope the sandbox does not implement (e.g. a v0 inner transaction)."""


def parse_envelope(envelope_xdr: str, network_passphrase: str) -> ParsedTransaction:
    """Decode base64 XDR; hash it for *this* network so foreign signatures do not verify."""
    # stellar-sdk warns about deprecated operations (allow_trust) while decoding them; the
    # network must accept whatever clients send without making noise about it.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return _parse(envelope_xdr, network_passphrase)


def _parse(envelope_xdr: str, network_passphrase: str) -> ParsedTransaction:
    try:
        data = base64.b64decode(envelope_xdr, validate=True)
        raw = xdr.TransactionEnvelope.from_xdr_bytes(data)
    except Exception as exc:  # xdrlib raises assorted error types on bad input
        raise transaction_malformed(envelope_xdr) from exc
    network_id = _network_id(network_passphrase)
    try:
        if raw.type == xdr.EnvelopeType.ENVELOPE_TYPE_TX_FEE_BUMP:
            outer = FeeBumpTransactionEnvelope.from_xdr_object(raw, network_passphrase)
            inner = outer.transaction.inner_transaction_envelope
            bump = FeeBump(
                hash=fastdecode.tx_hash_from_envelope_bytes(
                    data, raw.fee_bump.signatures, network_id, _FEE_BUMP
                ),
                fee_source=outer.transaction.fee_source,
                fee=int(outer.transaction.fee),
                signatures=list(outer.signatures),
            )
            return ParsedTransaction(envelope_xdr, inner, inner.hash(), bump)
        if raw.type != xdr.EnvelopeType.ENVELOPE_TYPE_TX or raw.v1 is None:
            envelope = TransactionEnvelope.from_xdr_object(raw, network_passphrase)
            return ParsedTransaction(envelope_xdr, envelope, envelope.hash())
        return _parse_v1(envelope_xdr, data, raw, network_passphrase, network_id)
    except Exception as exc:
        raise transaction_malformed(envelope_xdr) from exc


def _parse_v1(
    envelope_xdr: str,
    data: bytes,
    raw: xdr.TransactionEnvelope,
    network_passphrase: str,
    network_id: bytes,
) -> ParsedTransaction:
    """The common case, decoded through fastdecode (see there for why)."""
    v1 = raw.v1
    raw_ops = v1.tx.operations
    v1.tx.operations = []  # let stellar-sdk decode everything but the operations
    try:
        envelope = TransactionEnvelope.from_xdr_object(raw, network_passphrase)
    finally:
        v1.tx.operations = raw_ops
    envelope.transaction.operations = [fastdecode.operation(op) for op in raw_ops]
    tx_hash = fastdecode.tx_hash_from_envelope_bytes(data, v1.signatures, network_id, _TX)
    return ParsedTransaction(envelope_xdr, envelope, tx_hash)


_TX = xdr.EnvelopeType.ENVELOPE_TYPE_TX.value
_FEE_BUMP = xdr.EnvelopeType.ENVELOPE_TYPE_TX_FEE_BUMP.value


@functools.lru_cache(maxsize=8)
def _network_id(passphrase: str) -> bytes:
    return Network(passphrase).network_id()


__all__ = [
    "FeeBump",
    "HorizonProblem",
    "ParsedTransaction",
    "UnsupportedEnvelope",
    "parse_envelope",
]
