"""Type-specific fields of Horizon operation records, captured when the ledger closes."""

from __future__ import annotations

import base64
from typing import Any

from stellar_sdk import Asset, MuxedAccount
from stellar_sdk.operation import (
    ChangeTrust,
    CreateAccount,
    ManageData,
    Operation,
    Payment,
    SetOptions,
)

from .amounts import format_stroops

PAYMENT_TYPES = frozenset(
    {
        "create_account",
        "payment",
        "path_payment_strict_receive",
        "path_payment_strict_send",
        "account_merge",
    }
)

_FLAG_NAMES = {
    1: "auth_required_flag",
    2: "auth_revocable_flag",
    4: "auth_immutable_flag",
    8: "auth_clawback_enabled_flag",
}


def operation_type(op: Operation) -> tuple[str, int]:
    """Horizon's `type` and `type_i` for an operation."""
    op_type = op.to_xdr_object().body.type
    return op_type.name.lower(), int(op_type.value)


def asset_fields(asset: Asset, prefix: str = "") -> dict[str, Any]:
    if asset.is_native():
        return {f"{prefix}asset_type": "native"}
    return {
        f"{prefix}asset_type": asset.type,
        f"{prefix}asset_code": asset.code,
        f"{prefix}asset_issuer": asset.issuer,
    }


def muxed_fields(name: str, account: MuxedAccount | None) -> dict[str, Any]:
    """`<name>_muxed` / `<name>_muxed_id` when the address is an M… address."""
    if account is None or account.account_muxed_id is None:
        return {}
    return {
        f"{name}_muxed": account.account_muxed,
        f"{name}_muxed_id": str(account.account_muxed_id),
    }


def operation_details(
    op: Operation, source_id: str, source_muxed: MuxedAccount | None
) -> tuple[dict[str, Any], set[str]]:
    """The record fields for `op` and the accounts it involves (its participants)."""
    participants = {source_id}
    details: dict[str, Any] = {}
    if isinstance(op, CreateAccount):
        details = {
            "starting_balance": format_stroops(Operation.to_xdr_amount(op.starting_balance)),
            "funder": source_id,
            **muxed_fields("funder", source_muxed),
            "account": op.destination,
        }
        participants.add(op.destination)
    elif isinstance(op, Payment):
        details = {
            **asset_fields(op.asset),
            "from": source_id,
            **muxed_fields("from", source_muxed),
            "to": op.destination.account_id,
            **muxed_fields("to", op.destination),
            "amount": format_stroops(Operation.to_xdr_amount(op.amount)),
        }
        participants.add(op.destination.account_id)
    elif isinstance(op, ChangeTrust):
        if isinstance(op.asset, Asset):
            details = {**asset_fields(op.asset), "trustee": op.asset.issuer}
        else:
            details = {"asset_type": "liquidity_pool_shares"}
        details |= {
            "limit": format_stroops(Operation.to_xdr_amount(op.limit)),
            "trustor": source_id,
            **muxed_fields("trustor", source_muxed),
        }
    elif isinstance(op, SetOptions):
        details = _set_options_details(op)
    elif isinstance(op, ManageData):
        value = op.data_value
        details = {
            "name": op.data_name,
            "value": base64.b64encode(value).decode() if value is not None else "",
        }
    return details, participants


def _set_options_details(op: SetOptions) -> dict[str, Any]:
    details: dict[str, Any] = {}
    for name, value in (
        ("home_domain", op.home_domain),
        ("inflation_dest", op.inflation_dest),
        ("master_key_weight", op.master_weight),
        ("low_threshold", op.low_threshold),
        ("med_threshold", op.med_threshold),
        ("high_threshold", op.high_threshold),
    ):
        if value is not None:
            details[name] = value
    if op.signer is not None:
        details["signer_key"] = op.signer.signer_key.encoded_signer_key
        details["signer_weight"] = op.signer.weight
    for name, flags in (("set_flags", op.set_flags), ("clear_flags", op.clear_flags)):
        if flags:
            bits = [bit for bit in _FLAG_NAMES if int(flags) & bit]
            details[name] = bits
            details[f"{name}_s"] = [_FLAG_NAMES[bit].removesuffix("_flag") for bit in bits]
    return details
