"""Horizon JSON shapes for ledgers, transactions, operations, accounts and assets."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from .amounts import format_stroops
from .claims import predicate_json
from .history import LedgerRecord, OperationRecord, TransactionRecord
from .state import (
    AUTH_CLAWBACK_ENABLED,
    AUTH_IMMUTABLE,
    AUTH_REQUIRED,
    AUTH_REVOCABLE,
    AUTHORIZED_FLAG,
    AUTHORIZED_TO_MAINTAIN_LIABILITIES_FLAG,
    CLAIMABLE_BALANCE_CLAWBACK_ENABLED_FLAG,
    TRUSTLINE_CLAWBACK_ENABLED_FLAG,
    Account,
    ClaimableBalance,
    TrustLine,
)

ZERO = "0.0000000"
_PAGED = "{?cursor,limit,order}"


def iso_time(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _href(base: str, path: str, templated: bool = False) -> dict[str, Any]:
    link: dict[str, Any] = {"href": f"{base}{path}"}
    if templated:
        link["templated"] = True
    return link


def ledger_json(ledger: LedgerRecord, base: str) -> dict[str, Any]:
    seq = ledger.sequence
    return {
        "_links": {
            "self": _href(base, f"/ledgers/{seq}"),
            "transactions": _href(base, f"/ledgers/{seq}/transactions{_PAGED}", True),
            "operations": _href(base, f"/ledgers/{seq}/operations{_PAGED}", True),
            "payments": _href(base, f"/ledgers/{seq}/payments{_PAGED}", True),
            "effects": _href(base, f"/ledgers/{seq}/effects{_PAGED}", True),
        },
        "id": ledger.hash,
        "paging_token": str(ledger.id),
        "hash": ledger.hash,
        "prev_hash": ledger.prev_hash,
        "sequence": seq,
        "successful_transaction_count": ledger.successful_transaction_count,
        "failed_transaction_count": ledger.failed_transaction_count,
        "operation_count": ledger.operation_count,
        "tx_set_operation_count": ledger.tx_set_operation_count,
        "closed_at": iso_time(ledger.closed_at),
        "total_coins": format_stroops(ledger.total_coins),
        "fee_pool": format_stroops(ledger.fee_pool),
        "base_fee_in_stroops": ledger.base_fee,
        "base_reserve_in_stroops": ledger.base_reserve,
        "max_tx_set_size": ledger.max_tx_set_size,
        "protocol_version": ledger.protocol_version,
    }


def transaction_json(
    tx: TransactionRecord, base: str, requested_hash: str | None = None
) -> dict[str, Any]:
    """Horizon's transaction resource.

    A fee bump is one record findable by both hashes: `id`/`hash` are the hash it was asked
    by (the outer one in lists), and `signatures` are the inner ones when asked by the
    inner hash, as Horizon's PopulateTransaction does.
    """
    shown = requested_hash or tx.hash
    body: dict[str, Any] = {
        "_links": {
            "self": _href(base, f"/transactions/{shown}"),
            "account": _href(base, f"/accounts/{tx.source_account}"),
            "ledger": _href(base, f"/ledgers/{tx.ledger}"),
            "operations": _href(
                base, f"/transactions/{shown}/operations{{?cursor,limit,order}}", True
            ),
            "effects": _href(base, f"/transactions/{shown}/effects{_PAGED}", True),
            "precedes": _href(base, f"/transactions?order=asc&cursor={tx.id}"),
            "succeeds": _href(base, f"/transactions?order=desc&cursor={tx.id}"),
            "transaction": _href(base, f"/transactions/{shown}"),
        },
        "id": shown,
        "paging_token": str(tx.id),
        "successful": tx.successful,
        "hash": shown,
        "ledger": tx.ledger,
        "created_at": iso_time(tx.closed_at),
        "source_account": tx.source_account,
        "source_account_sequence": str(tx.sequence),
        "fee_account": tx.fee_account or tx.source_account,
        "fee_charged": str(tx.fee_charged),
        "max_fee": str(tx.max_fee),
        "operation_count": tx.operation_count,
        "envelope_xdr": tx.envelope_xdr,
        "result_xdr": tx.result_xdr,
        "memo_type": tx.memo_type,
        "signatures": tx.signatures,
    }
    if tx.source_muxed is not None:
        body["account_muxed"] = tx.source_muxed
        body["account_muxed_id"] = str(tx.source_muxed_id)
    if tx.fee_account_muxed is not None:
        body["fee_account_muxed"] = tx.fee_account_muxed
        body["fee_account_muxed_id"] = str(tx.fee_account_muxed_id)
    if tx.inner_hash is not None:
        body["fee_bump_transaction"] = {"hash": tx.hash, "signatures": tx.signatures}
        body["inner_transaction"] = {
            "hash": tx.inner_hash,
            "signatures": tx.inner_signatures,
            "max_fee": str(tx.inner_max_fee),
        }
        if shown != tx.hash:
            body["signatures"] = tx.inner_signatures
    if tx.memo is not None:
        body["memo"] = tx.memo
    if tx.memo_bytes is not None:
        body["memo_bytes"] = tx.memo_bytes
    if tx.valid_after is not None or tx.valid_before is not None:
        body["valid_after"] = iso_time(tx.valid_after or 0)
        if tx.valid_before:
            body["valid_before"] = iso_time(tx.valid_before)
        body["preconditions"] = {
            "timebounds": {
                "min_time": str(tx.valid_after or 0),
                **({"max_time": str(tx.valid_before)} if tx.valid_before else {}),
            }
        }
    return body


def operation_json(
    op: OperationRecord, base: str, join_transaction: bool = False
) -> dict[str, Any]:
    tx = op.transaction
    body: dict[str, Any] = {
        "_links": {
            "self": _href(base, f"/operations/{op.id}"),
            "transaction": _href(base, f"/transactions/{tx.hash}"),
            "effects": _href(base, f"/operations/{op.id}/effects"),
            "succeeds": _href(base, f"/effects?order=desc&cursor={op.id}"),
            "precedes": _href(base, f"/effects?order=asc&cursor={op.id}"),
        },
        "id": str(op.id),
        "paging_token": str(op.id),
        "transaction_successful": tx.successful,
        "source_account": op.source_account,
        "type": op.type,
        "type_i": op.type_i,
        "created_at": iso_time(tx.closed_at),
        "transaction_hash": tx.hash,
    }
    if op.source_muxed_id is not None:
        body["source_account_muxed"] = op.source_muxed
        body["source_account_muxed_id"] = str(op.source_muxed_id)
    body.update(op.details)
    if join_transaction:
        body["transaction"] = transaction_json(tx, base)
    return body


def account_json(account: Account, base: str) -> dict[str, Any]:
    aid = account.account_id
    balances = [_trustline_json(line) for line in account.trustlines.values()]
    balances.append(
        {
            "balance": format_stroops(account.balance),
            "buying_liabilities": ZERO,
            "selling_liabilities": ZERO,
            "asset_type": "native",
        }
    )
    signers = [
        {"weight": weight, "key": key, "type": _signer_type(key)}
        for key, weight in sorted(account.signers.items())
    ]
    signers.append({"weight": account.master_weight, "key": aid, "type": "ed25519_public_key"})
    body: dict[str, Any] = {
        "_links": {
            "self": _href(base, f"/accounts/{aid}"),
            "transactions": _href(base, f"/accounts/{aid}/transactions{_PAGED}", True),
            "operations": _href(base, f"/accounts/{aid}/operations{_PAGED}", True),
            "payments": _href(base, f"/accounts/{aid}/payments{_PAGED}", True),
            "effects": _href(base, f"/accounts/{aid}/effects{_PAGED}", True),
            "offers": _href(base, f"/accounts/{aid}/offers{_PAGED}", True),
            "trades": _href(base, f"/accounts/{aid}/trades{_PAGED}", True),
            "data": _href(base, f"/accounts/{aid}/data/{{key}}", True),
        },
        "id": aid,
        "account_id": aid,
        "sequence": str(account.sequence),
        "sequence_ledger": account.sequence_ledger,
        "sequence_time": str(account.sequence_time),
        "subentry_count": account.subentry_count,
        "last_modified_ledger": account.last_modified_ledger,
        "last_modified_time": iso_time(account.last_modified_time),
        "thresholds": {
            "low_threshold": account.low_threshold,
            "med_threshold": account.med_threshold,
            "high_threshold": account.high_threshold,
        },
        "flags": flags_json(account.flags),
        "balances": balances,
        "signers": signers,
        "data": {k: base64.b64encode(v).decode() for k, v in account.data.items()},
        "num_sponsoring": account.num_sponsoring,
        "num_sponsored": account.num_sponsored,
        "paging_token": aid,
    }
    if account.home_domain:
        body["home_domain"] = account.home_domain
    if account.inflation_dest:
        body["inflation_destination"] = account.inflation_dest
    return body


def flags_json(flags: int) -> dict[str, bool]:
    return {
        "auth_required": bool(flags & AUTH_REQUIRED),
        "auth_revocable": bool(flags & AUTH_REVOCABLE),
        "auth_immutable": bool(flags & AUTH_IMMUTABLE),
        "auth_clawback_enabled": bool(flags & AUTH_CLAWBACK_ENABLED),
    }


def _trustline_json(line: TrustLine) -> dict[str, Any]:
    body = {
        "balance": format_stroops(line.balance),
        "limit": format_stroops(line.limit),
        "buying_liabilities": ZERO,
        "selling_liabilities": ZERO,
        "last_modified_ledger": line.last_modified_ledger,
        "is_authorized": bool(line.flags & AUTHORIZED_FLAG),
        "is_authorized_to_maintain_liabilities": bool(
            line.flags & (AUTHORIZED_FLAG | AUTHORIZED_TO_MAINTAIN_LIABILITIES_FLAG)
        ),
        "asset_type": line.asset_type,
        "asset_code": line.code,
        "asset_issuer": line.issuer,
    }
    if line.flags & TRUSTLINE_CLAWBACK_ENABLED_FLAG:
        body["is_clawback_enabled"] = True
    return body


def claimable_balance_json(
    balance: ClaimableBalance, base: str, closed_at: int | None
) -> dict[str, Any]:
    """Horizon's claimable balance resource (paging token "<ledger>-<id>")."""
    self_path = f"/claimable_balances/{balance.balance_id}"
    body: dict[str, Any] = {
        "_links": {
            "self": _href(base, self_path),
            "transactions": _href(base, f"{self_path}/transactions{_PAGED}", True),
            "operations": _href(base, f"{self_path}/operations{_PAGED}", True),
        },
        "id": balance.balance_id,
        "asset": balance.asset,
        "amount": format_stroops(balance.amount),
        "sponsor": balance.sponsor,
        "last_modified_ledger": balance.last_modified_ledger,
        "claimants": [
            {"destination": destination, "predicate": predicate_json(predicate)}
            for destination, predicate in balance.claimants
        ],
        "flags": {
            "clawback_enabled": bool(balance.flags & CLAIMABLE_BALANCE_CLAWBACK_ENABLED_FLAG)
        },
        "paging_token": claimable_balance_token(balance),
    }
    if closed_at is not None:
        body["last_modified_time"] = iso_time(closed_at)
    return body


def claimable_balance_token(balance: ClaimableBalance) -> str:
    return f"{balance.last_modified_ledger}-{balance.balance_id}"


def _signer_type(key: str) -> str:
    return {"G": "ed25519_public_key", "T": "preauth_tx", "X": "sha256_hash"}.get(
        key[0], "ed25519_signed_payload"
    )


def page_json(
    base: str,
    path: str,
    records: list[dict[str, Any]],
    *,
    cursor: str,
    limit: int,
    descending: bool,
    extra_query: dict[str, str],
) -> dict[str, Any]:
    """A Horizon collection page with self/next/prev links stellar-sdk can follow."""
    order = "desc" if descending else "asc"
    reverse = "asc" if descending else "desc"
    first = records[0]["paging_token"] if records else cursor
    last = records[-1]["paging_token"] if records else cursor

    def link(c: str, o: str) -> dict[str, str]:
        query = "&".join(
            [f"cursor={c}", f"limit={limit}", f"order={o}"]
            + [f"{k}={v}" for k, v in extra_query.items()]
        )
        return {"href": f"{base}{path}?{query}"}

    return {
        "_links": {
            "self": link(cursor, order),
            "next": link(last, order),
            "prev": link(first, reverse),
        },
        "_embedded": {"records": records},
    }
