"""Decoding submitted envelopes into what validation and apply need."""

from __future__ import annotations

from dataclasses import dataclass

from stellar_sdk import MuxedAccount, Operation, Transaction, TransactionEnvelope, xdr

from .problems import HorizonProblem, transaction_malformed


@dataclass
class ParsedTransaction:
    """A submitted v1 transaction with the network-specific hash already computed."""

    envelope_xdr: str
    envelope: TransactionEnvelope
    hash: bytes

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
    def operations(self) -> list[Operation]:
        return list(self.tx.operations)

    def op_source_id(self, op: Operation) -> str:
        return op.source.account_id if op.source is not None else self.source_id

    @property
    def max_fee(self) -> int:
        return int(self.tx.fee)


class UnsupportedEnvelope(Exception):
    """A well-formed envelope the sandbox does not implement yet (e.g. a fee bump)."""


def parse_envelope(envelope_xdr: str, network_passphrase: str) -> ParsedTransaction:
    """Decode base64 XDR; hash it for *this* network so foreign signatures do not verify."""
    try:
        raw = xdr.TransactionEnvelope.from_xdr(envelope_xdr)
    except Exception as exc:  # xdrlib raises assorted error types on bad input
        raise transaction_malformed(envelope_xdr) from exc
    if raw.type == xdr.EnvelopeType.ENVELOPE_TYPE_TX_FEE_BUMP:
        raise UnsupportedEnvelope("fee bump transactions are not supported by the sandbox yet")
    try:
        envelope = TransactionEnvelope.from_xdr(envelope_xdr, network_passphrase)
    except Exception as exc:
        raise transaction_malformed(envelope_xdr) from exc
    return ParsedTransaction(envelope_xdr=envelope_xdr, envelope=envelope, hash=envelope.hash())


__all__ = ["HorizonProblem", "ParsedTransaction", "UnsupportedEnvelope", "parse_envelope"]
