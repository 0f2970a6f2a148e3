"""Cheaper decoding of submitted envelopes: the hot path of every submission.

stellar-sdk turns each operation into objects through strkey encode/decode round trips and
re-serialises the whole transaction to hash it; for a 100-payment envelope that was most of
the submission cost. Here the hash is taken from the submitted bytes themselves, accounts
and assets are decoded once and cached, and payments (what anchors send in bulk) skip the
generic operation constructors. Everything else still goes through stellar-sdk.
"""

from __future__ import annotations

import hashlib
import struct

from stellar_sdk import Asset, MuxedAccount, StrKey, xdr
from stellar_sdk.operation import Operation, Payment

_CACHE_LIMIT = 50_000
_accounts: dict[bytes, MuxedAccount] = {}
_assets: dict[tuple[int, bytes, bytes], Asset] = {}
_NATIVE = Asset.native()
_ED25519 = xdr.CryptoKeyType.KEY_TYPE_ED25519


def muxed_account(raw: xdr.MuxedAccount) -> MuxedAccount:
    """MuxedAccount for an XDR one; plain G… accounts come from a cache."""
    if raw.type != _ED25519:
        return MuxedAccount.from_xdr_object(raw)
    key = raw.ed25519.uint256
    found = _accounts.get(key)
    if found is None:
        if len(_accounts) >= _CACHE_LIMIT:
            _accounts.clear()
        found = MuxedAccount(StrKey.encode_ed25519_public_key(key), None)
        _accounts[key] = found
    return found


def asset(raw: xdr.Asset) -> Asset:
    kind = raw.type
    if kind == xdr.AssetType.ASSET_TYPE_NATIVE:
        return _NATIVE
    if kind == xdr.AssetType.ASSET_TYPE_CREDIT_ALPHANUM4 and raw.alpha_num4 is not None:
        code, issuer = raw.alpha_num4.asset_code.asset_code4, raw.alpha_num4.issuer
    elif kind == xdr.AssetType.ASSET_TYPE_CREDIT_ALPHANUM12 and raw.alpha_num12 is not None:
        code, issuer = raw.alpha_num12.asset_code.asset_code12, raw.alpha_num12.issuer
    else:
        return Asset.from_xdr_object(raw)
    key = (int(kind.value), code, issuer.account_id.ed25519.uint256)
    found = _assets.get(key)
    if found is None:
        if len(_assets) >= _CACHE_LIMIT:
            _assets.clear()
        found = Asset.from_xdr_object(raw)
        _assets[key] = found
    return found


def operation(raw: xdr.Operation) -> Operation:
    """An sdk Operation; payments are built directly from cached parts."""
    if raw.body.type != xdr.OperationType.PAYMENT:
        return Operation.from_xdr_object(raw)
    body = raw.body.payment_op
    op = Payment.__new__(Payment)
    op.source = muxed_account(raw.source_account) if raw.source_account else None
    op.destination = muxed_account(body.destination)
    op.asset = asset(body.asset)
    op.amount = Operation.from_xdr_amount(body.amount.int64)
    return op


def _signatures_size(signatures: list[xdr.DecoratedSignature]) -> int:
    """Bytes the signature array takes at the end of an envelope."""
    size = 4
    for sig in signatures:
        length = len(sig.signature.signature)
        size += 4 + 4 + length + (-length % 4)
    return size


def tx_hash_from_envelope_bytes(
    data: bytes, signatures: list[xdr.DecoratedSignature], network_id: bytes, envelope_type: int
) -> bytes:
    """sha256(network id | envelope type | transaction bytes), slicing the submitted bytes.

    A v1 or fee-bump envelope is its type (4 bytes), the transaction, then the signatures.
    """
    tx_bytes = data[4 : len(data) - _signatures_size(signatures)]
    return hashlib.sha256(network_id + struct.pack(">I", envelope_type) + tx_bytes).digest()
