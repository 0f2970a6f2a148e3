"""Type-specific fields of Horizon operation records, captured when the ledger closes."""

from __future__ import annotations

import base64
from typing import Any

from stellar_sdk import Asset, MuxedAccount, xdr
from stellar_sdk.operation import (
    AccountMerge,
    AllowTrust,
    BumpSequence,
    ChangeTrust,
    ClaimClaimableBalance,
    Clawback,
    ClawbackClaimableBalance,
    CreateAccount,
    CreateClaimableBalance,
    ManageData,
    Operation,
    PathPaymentStrictReceive,
    PathPaymentStrictSend,
    Payment,
    SetOptions,
    SetTrustLineFlags,
)

from .amounts import format_stroops, stroops
from .claims import normalize_balance_id, predicate_json, stored_predicate

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
_TRUSTLINE_FLAG_NAMES = {
    1: "authorized",
    2: "authorized_to_maintain_liabilities",
    4: "clawback_enabled",
}
_TYPE_CACHE: dict[type, tuple[str, int]] = {}


def operation_type(op: Operation) -> tuple[str, int]:
    """Horizon's `type` and `type_i` for an operation."""
    cls = type(op)
    found = _TYPE_CACHE.get(cls)
    if found is None:
        op_type = xdr.OperationType(cls._XDR_OPERATION_TYPE)
        found = _TYPE_CACHE[cls] = (op_type.name.lower(), int(op_type.value))
    return found


def asset_fields(asset: Asset, prefix: str = "") -> dict[str, Any]:
    if asset.is_native():
        return {f"{prefix}asset_type": "native"}
    return {
        f"{prefix}asset_type": asset.type,
        f"{prefix}asset_code": asset.code,
        f"{prefix}asset_issuer": asset.issuer,
    }


def canonical(asset: Asset) -> str:
    return "native" if asset.is_native() else f"{asset.code}:{asset.issuer}"


def muxed_fields(name: str, account: MuxedAccount | None) -> dict[str, Any]:
    """`<name>_muxed` / `<name>_muxed_id` when the address is an M… address."""
    if account is None or account.account_muxed_id is None:
        return {}
    return {
        f"{name}_muxed": account.account_muxed,
        f"{name}_muxed_id": str(account.account_muxed_id),
    }


def operation_details(
    op: Operation,
    source_id: str,
    source_muxed: MuxedAccount | None,
    applied: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], set[str]]:
    """The record fields for `op` and the accounts it involves (its participants).

    `applied` holds what only applying told (amounts a path payment moved).
    """
    participants = {source_id}
    details: dict[str, Any] = {}
    applied = applied or {}
    amount = stroops
    if isinstance(op, Payment):
        details = {
            **asset_fields(op.asset),
            "from": source_id,
            **muxed_fields("from", source_muxed),
            "to": op.destination.account_id,
            **muxed_fields("to", op.destination),
            "amount": format_stroops(amount(op.amount)),
        }
        participants.add(op.destination.account_id)
    elif isinstance(op, CreateAccount):
        details = {
            "starting_balance": format_stroops(amount(op.starting_balance)),
            "funder": source_id,
            **muxed_fields("funder", source_muxed),
            "account": op.destination,
        }
        participants.add(op.destination)
    elif isinstance(op, PathPaymentStrictReceive | PathPaymentStrictSend):
        details = _path_payment_details(op, source_id, source_muxed, applied)
        participants.add(op.destination.account_id)
    elif isinstance(op, ChangeTrust):
        if isinstance(op.asset, Asset):
            details = {**asset_fields(op.asset), "trustee": op.asset.issuer}
        else:
            details = {"asset_type": "liquidity_pool_shares"}
        details |= {
            "limit": format_stroops(amount(op.limit)),
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
    else:
        details = _other_details(op, source_id, source_muxed, participants)
    return details, participants


def _other_details(
    op: Operation, source_id: str, source_muxed: MuxedAccount | None, participants: set[str]
) -> dict[str, Any]:
    if isinstance(op, CreateClaimableBalance):
        participants.update(c.destination for c in op.claimants)
        return {
            "asset": canonical(op.asset),
            "amount": format_stroops(stroops(op.amount)),
            "claimants": [
                {
                    "destination": c.destination,
                    "predicate": predicate_json(stored_predicate(c.predicate, None)),
                }
                for c in op.claimants
            ],
        }
    if isinstance(op, ClaimClaimableBalance):
        return {
            "balance_id": normalize_balance_id(op.balance_id) or op.balance_id,
            "claimant": source_id,
            **muxed_fields("claimant", source_muxed),
        }
    if isinstance(op, ClawbackClaimableBalance):
        return {"balance_id": normalize_balance_id(op.balance_id) or op.balance_id}
    if isinstance(op, AccountMerge):
        participants.add(op.destination.account_id)
        return {
            "account": source_id,
            **muxed_fields("account", source_muxed),
            "into": op.destination.account_id,
            **muxed_fields("into", op.destination),
        }
    if isinstance(op, BumpSequence):
        return {"bump_to": str(op.bump_to)}
    if isinstance(op, AllowTrust):
        authorize = int(op.authorize)
        asset = Asset(op.asset_code, source_id)
        participants.add(op.trustor)
        return {
            **asset_fields(asset),
            "trustee": source_id,
            **muxed_fields("trustee", source_muxed),
            "trustor": op.trustor,
            "authorize": authorize == 1,
            "authorize_to_maintain_liabilities": authorize == 2,
        }
    if isinstance(op, SetTrustLineFlags):
        participants.add(op.trustor)
        details = {**asset_fields(op.asset), "trustor": op.trustor}
        for name, flags in (("set_flags", op.set_flags), ("clear_flags", op.clear_flags)):
            if flags:
                bits = [bit for bit in _TRUSTLINE_FLAG_NAMES if int(flags) & bit]
                details[name] = bits
                details[f"{name}_s"] = [_TRUSTLINE_FLAG_NAMES[bit] for bit in bits]
        return details
    if isinstance(op, Clawback):
        participants.add(op.from_.account_id)
        return {
            **asset_fields(op.asset),
            "from": op.from_.account_id,
            **muxed_fields("from", op.from_),
            "amount": format_stroops(stroops(op.amount)),
        }
    return {}


def _path_payment_details(
    op: PathPaymentStrictReceive | PathPaymentStrictSend,
    source_id: str,
    source_muxed: MuxedAccount | None,
    applied: dict[str, Any],
) -> dict[str, Any]:
    """Horizon shows the amount the op fixed, and the other one only once it succeeded."""
    amount = stroops
    if isinstance(op, PathPaymentStrictReceive):
        moved = {
            "amount": format_stroops(amount(op.dest_amount)),
            "path": [asset_fields(a) for a in op.path],
            "source_amount": format_stroops(applied.get("source_amount", 0)),
            "source_max": format_stroops(amount(op.send_max)),
        }
    else:
        moved = {
            "amount": format_stroops(applied.get("amount", 0)),
            "path": [asset_fields(a) for a in op.path],
            "source_amount": format_stroops(amount(op.send_amount)),
            "destination_min": format_stroops(amount(op.dest_min)),
        }
    return {
        **asset_fields(op.dest_asset),
        "from": source_id,
        **muxed_fields("from", source_muxed),
        "to": op.destination.account_id,
        **muxed_fields("to", op.destination),
        **moved,
        **asset_fields(op.send_asset, "source_"),
    }


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
