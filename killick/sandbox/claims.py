"""Claimable balance ids and claim predicates: validation, evaluation and Horizon's JSON.

Predicates are stored as plain dicts ({"unconditional": True}, {"abs_before": epoch},
{"and": [a, b]}, {"or": [a, b]}, {"not": p}); relative times are made absolute when the
balance is created, as stellar-core does.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from stellar_sdk import ClaimPredicate, Keypair, xdr
from stellar_sdk.operation.create_claimable_balance import ClaimPredicateType

from .amounts import INT64_MAX

MAX_CLAIMANTS = 10
MAX_PREDICATE_DEPTH = 4
_LAST_ISO_SECOND = 253402300799  # 9999-12-31T23:59:59Z
_T = ClaimPredicateType


def balance_id(tx_source: str, sequence: int, op_index: int) -> str:
    """Hex of the XDR ClaimableBalanceID core derives from (tx source, seq num, op index)."""
    preimage = xdr.HashIDPreimage(
        type=xdr.EnvelopeType.ENVELOPE_TYPE_OP_ID,
        operation_id=xdr.HashIDPreimageOperationID(
            source_account=Keypair.from_public_key(tx_source).xdr_account_id(),
            seq_num=xdr.SequenceNumber(xdr.Int64(sequence)),
            op_num=xdr.Uint32(op_index),
        ),
    )
    digest = hashlib.sha256(preimage.to_xdr_bytes()).digest()
    cb_id = xdr.ClaimableBalanceID(
        type=xdr.ClaimableBalanceIDType.CLAIMABLE_BALANCE_ID_TYPE_V0, v0=xdr.Hash(digest)
    )
    return cb_id.to_xdr_bytes().hex()


def balance_id_xdr(hex_id: str) -> xdr.ClaimableBalanceID:
    return xdr.ClaimableBalanceID.from_xdr_bytes(bytes.fromhex(hex_id))


def normalize_balance_id(value: str) -> str | None:
    """Accept Horizon's hex form (with or without the 8-digit type prefix); None if invalid."""
    value = value.lower()
    if len(value) == 64:
        value = "00000000" + value
    if len(value) != 72 or not value.startswith("00000000"):
        return None
    try:
        bytes.fromhex(value)
    except ValueError:
        return None
    return value


def predicate_is_valid(predicate: ClaimPredicate, depth: int = 1) -> bool:
    """stellar-core's validatePredicate: depth ≤ 4, non-negative times, two-way and/or."""
    if depth > MAX_PREDICATE_DEPTH:
        return False
    kind = predicate.claim_predicate_type
    if kind == _T.CLAIM_PREDICATE_UNCONDITIONAL:
        return True
    if kind in (_T.CLAIM_PREDICATE_AND, _T.CLAIM_PREDICATE_OR):
        is_and = kind == _T.CLAIM_PREDICATE_AND
        group = predicate.and_predicates if is_and else predicate.or_predicates
        if group is None:
            return False
        return predicate_is_valid(group.left, depth + 1) and predicate_is_valid(
            group.right, depth + 1
        )
    if kind == _T.CLAIM_PREDICATE_NOT:
        inner = predicate.not_predicate
        return inner is not None and predicate_is_valid(inner, depth + 1)
    if kind == _T.CLAIM_PREDICATE_BEFORE_ABSOLUTE_TIME:
        return (predicate.abs_before or 0) >= 0
    if kind == _T.CLAIM_PREDICATE_BEFORE_RELATIVE_TIME:
        return (predicate.rel_before or 0) >= 0
    return False


def stored_predicate(predicate: ClaimPredicate, close_time: int | None) -> dict[str, Any]:
    """Plain-dict form; with `close_time`, relative times become absolute (as when stored)."""
    kind = predicate.claim_predicate_type
    if kind == _T.CLAIM_PREDICATE_AND and predicate.and_predicates:
        group = predicate.and_predicates
        return {
            "and": [
                stored_predicate(group.left, close_time),
                stored_predicate(group.right, close_time),
            ]
        }
    if kind == _T.CLAIM_PREDICATE_OR and predicate.or_predicates:
        group = predicate.or_predicates
        return {
            "or": [
                stored_predicate(group.left, close_time),
                stored_predicate(group.right, close_time),
            ]
        }
    if kind == _T.CLAIM_PREDICATE_NOT and predicate.not_predicate:
        return {"not": stored_predicate(predicate.not_predicate, close_time)}
    if kind == _T.CLAIM_PREDICATE_BEFORE_ABSOLUTE_TIME:
        return {"abs_before": int(predicate.abs_before or 0)}
    if kind == _T.CLAIM_PREDICATE_BEFORE_RELATIVE_TIME:
        relative = int(predicate.rel_before or 0)
        if close_time is None:
            return {"rel_before": relative}
        return {"abs_before": min(INT64_MAX, close_time + relative)}
    return {"unconditional": True}


def predicate_holds(predicate: dict[str, Any], close_time: int) -> bool:
    """Evaluate a stored predicate at a ledger's close time."""
    if "and" in predicate:
        return all(predicate_holds(p, close_time) for p in predicate["and"])
    if "or" in predicate:
        return any(predicate_holds(p, close_time) for p in predicate["or"])
    if "not" in predicate:
        return not predicate_holds(predicate["not"], close_time)
    if "abs_before" in predicate:
        return close_time < predicate["abs_before"]
    if "rel_before" in predicate:  # never stored; kept for completeness
        return True
    return True


def predicate_json(predicate: dict[str, Any]) -> dict[str, Any]:
    """Horizon's JSON: abs_before as ISO time plus abs_before_epoch, rel_before in seconds."""
    if "and" in predicate:
        return {"and": [predicate_json(p) for p in predicate["and"]]}
    if "or" in predicate:
        return {"or": [predicate_json(p) for p in predicate["or"]]}
    if "not" in predicate:
        return {"not": predicate_json(predicate["not"])}
    if "abs_before" in predicate:
        epoch = predicate["abs_before"]
        shown = datetime.fromtimestamp(min(epoch, _LAST_ISO_SECOND), UTC)
        return {"abs_before": shown.strftime("%Y-%m-%dT%H:%M:%SZ"), "abs_before_epoch": str(epoch)}
    if "rel_before" in predicate:
        return {"rel_before": str(predicate["rel_before"])}
    return {"unconditional": True}
