"""Payment envelopes for deposits and refunds: what each payment needs, built into one
transaction, and the per-operation results read back from the network.

Pure functions (no I/O), so the rules are easy to test and the protocol code that saves
and submits envelopes stays short.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from stellar_sdk import (
    Account,
    Claimant,
    Keypair,
    TransactionBuilder,
    TransactionEnvelope,
    xdr,
)
from stellar_sdk import (
    Asset as StellarAsset,
)


class Action(StrEnum):
    PAY = "pay"  # trustline ready: a payment
    CLAIMABLE = "claimable"  # no trustline, wallet opted in: a claimable balance
    CREATE_AND_CLAIMABLE = "create_and_claimable"  # no account: create it, then claimable
    CREATE_THEN_TRUST = "create_then_trust"  # no account: create it; then wait for trust
    REFUND = "refund"  # a withdrawal's payment sent back to its sender: a payment


@dataclass(frozen=True)
class PlannedDeposit:
    """One transaction's payment in an envelope: a deposit, or a withdrawal's refund
    (``Action.REFUND``; ``deposit_id`` is then the withdrawal's id)."""

    deposit_id: str
    action: Action
    destination: str  # G... or M... (payments may go to a muxed address)
    destination_account: str  # G...
    amount: Decimal


def operations_for(action: Action) -> int:
    return 2 if action == Action.CREATE_AND_CLAIMABLE else 1


def build_envelope(
    *,
    source: Keypair,
    sequence: int,
    distribution: Keypair,
    asset_code: str,
    asset_issuer: str,
    planned: list[PlannedDeposit],
    memo: tuple[str, str] | None,
    base_fee: int,
    min_time: int,
    max_time: int,
    network_passphrase: str,
    starting_balance: Decimal,
) -> TransactionEnvelope:
    """One transaction paying every planned deposit; signed by the source and distributor.

    ``sequence`` is the source's *current* sequence; the envelope uses the next one.
    """
    asset = StellarAsset(asset_code, asset_issuer)
    builder = TransactionBuilder(Account(source.public_key, sequence), network_passphrase, base_fee)
    builder.add_time_bounds(min_time, max_time)
    payer = distribution.public_key
    for item in planned:
        amount = str(item.amount)
        if item.action in (Action.CREATE_AND_CLAIMABLE, Action.CREATE_THEN_TRUST):
            builder.append_create_account_op(
                item.destination_account, str(starting_balance), source=payer
            )
        if item.action in (Action.PAY, Action.REFUND):
            builder.append_payment_op(item.destination, asset, amount, source=payer)
        elif item.action in (Action.CLAIMABLE, Action.CREATE_AND_CLAIMABLE):
            builder.append_create_claimable_balance_op(
                asset, amount, [Claimant(item.destination_account)], source=payer
            )
    if memo is not None:
        memo_type, value = memo
        if memo_type == "id":
            builder.add_id_memo(int(value))
        elif memo_type == "text":
            builder.add_text_memo(value)
        elif memo_type == "hash":
            builder.add_hash_memo(base64.b64decode(value))
        else:
            raise ValueError(f"unknown memo type {memo_type!r}")
    envelope = builder.build()
    envelope.sign(source)
    if distribution.public_key != source.public_key:
        envelope.sign(distribution)
    return envelope


_PREFIXES = (
    "CREATE_CLAIMABLE_BALANCE_",
    "CREATE_ACCOUNT_",
    "PAYMENT_",
    "SET_TRUST_LINE_FLAGS_",
    "ALLOW_TRUST_",
    "CHANGE_TRUST_",
)


def _code_name(value: object) -> str:
    name = getattr(getattr(value, "code", None), "name", "unknown")
    for prefix in _PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    name = name.lower()
    return {"already_exist": "already_exists"}.get(name, name)


@dataclass(frozen=True)
class AppliedResult:
    successful: bool
    transaction_code: str
    operation_codes: list[str]
    claimable_balance_ids: list[str | None]  # per operation


def read_result(result_xdr: str) -> AppliedResult:
    """Decode a TransactionResult (fee bumps included) into Horizon-style codes."""
    result = xdr.TransactionResult.from_xdr(result_xdr).result
    code = result.code
    if result.inner_result_pair is not None:
        result = result.inner_result_pair.result.result
        code = result.code
    codes: list[str] = []
    balance_ids: list[str | None] = []
    for op in result.results or []:
        balance_id = None
        if op.code != xdr.OperationResultCode.opINNER or op.tr is None:
            codes.append("op_" + op.code.name.removeprefix("op").lower())
        else:
            inner = next(
                value for key, value in vars(op.tr).items() if key != "type" and value is not None
            )
            codes.append("op_" + _code_name(inner))
            if isinstance(inner, xdr.CreateClaimableBalanceResult) and inner.balance_id:
                balance_id = inner.balance_id.to_xdr_bytes().hex()
        balance_ids.append(balance_id)
    successful = code in (
        xdr.TransactionResultCode.txSUCCESS,
        xdr.TransactionResultCode.txFEE_BUMP_INNER_SUCCESS,
    )
    return AppliedResult(
        successful, "tx_" + code.name.removeprefix("tx").lower(), codes, balance_ids
    )
