"""The SEP-6 4.3 transaction object: what ``/transaction(s)`` answer and callbacks carry.

One function, used by the API and by the outbox, so a wallet reads the same JSON from
both. Amounts are strings rounded to the asset's significant decimals; times are UTC
ISO 8601; fields that do not apply are left out.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from killick.models import Transaction
from killick.money import format_amount

# Instructions are shown only once the anchor waits for the user's funds (CHECKLIST P-16).
_BEFORE_INSTRUCTIONS = {"incomplete", "pending_customer_info_update"}


def iso8601(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def amount_text(txn: Transaction, value: Decimal | None) -> str | None:
    """Rounded to the asset's decimals, never losing a digit: an exchange's amount in
    another asset (SEP-38) may have more places than the Stellar asset."""
    if value is None:
        return None
    exponent = value.normalize().as_tuple().exponent
    needed = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return format_amount(value, max(txn.asset.significant_decimals, needed))


def _fee_details(txn: Transaction) -> dict[str, Any]:
    """Always present (SEP-6 4.3 lists it without an optional marker); a fee not known
    yet shows as a zero total."""
    if txn.fee_details:
        return txn.fee_details
    return {
        "total": amount_text(txn, txn.amount_fee or Decimal(0)),
        "asset": txn.amount_fee_asset or txn.asset.asset_identifier,
    }


def transaction_object(txn: Transaction) -> dict[str, Any]:
    """The SEP-6 transaction JSON for ``txn`` (whose ``asset`` is loaded)."""
    body: dict[str, Any] = {
        "id": txn.id,
        "kind": txn.kind,
        "status": txn.status,
        "status_eta": txn.status_eta,
        "more_info_url": txn.more_info_url,
        "amount_in": amount_text(txn, txn.amount_in),
        "amount_in_asset": txn.amount_in_asset,
        "amount_out": amount_text(txn, txn.amount_out),
        "amount_out_asset": txn.amount_out_asset,
        "amount_fee": amount_text(txn, txn.amount_fee),
        "amount_fee_asset": txn.amount_fee_asset,
        "fee_details": _fee_details(txn),
        "quote_id": txn.quote_id,
        "from": txn.from_address,
        "to": txn.to_address,
        "external_extra": txn.external_extra,
        "external_extra_text": txn.external_extra_text,
        "started_at": iso8601(txn.started_at),
        "updated_at": iso8601(txn.updated_at),
        "completed_at": iso8601(txn.completed_at),
        "user_action_required_by": iso8601(txn.user_action_required_by),
        "stellar_transaction_id": txn.stellar_transaction_id,
        "external_transaction_id": txn.external_transaction_id,
        "message": txn.message,
        "refunds": txn.refunds,
        "required_info_message": txn.required_info_message,
        "required_info_updates": txn.required_info_updates,
        "claimable_balance_id": txn.claimable_balance_id,
    }
    if txn.is_deposit:
        body["deposit_memo"] = txn.deposit_memo
        body["deposit_memo_type"] = txn.deposit_memo_type
    else:
        body["withdraw_anchor_account"] = txn.withdraw_anchor_account
        body["withdraw_memo"] = txn.withdraw_memo
        body["withdraw_memo_type"] = txn.withdraw_memo_type
    if txn.status not in _BEFORE_INSTRUCTIONS:
        body["instructions"] = txn.instructions
    if txn.refunded:
        body["refunded"] = True
    return {key: value for key, value in body.items() if value is not None}
