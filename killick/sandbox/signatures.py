"""Signature weight checks, following stellar-core's SignatureChecker.

Signers are matched by hint and verified against the network-specific transaction hash.
Supported signer kinds: ed25519 keys (G…), sha256 hash-x (X…) and pre-auth tx hashes (T…).
Signed-payload signers are not supported.
"""

from __future__ import annotations

import hashlib

from stellar_sdk import Keypair, StrKey
from stellar_sdk.decorated_signature import DecoratedSignature
from stellar_sdk.exceptions import BadSignatureError

from .state import Account


def account_signers(account: Account) -> list[tuple[str, int]]:
    """Master key first, then extra signers; zero weights are ignored by the checker."""
    return [(account.account_id, account.master_weight), *account.signers.items()]


class SignatureChecker:
    """Sums signer weights for each check and remembers which signatures were used."""

    def __init__(self, tx_hash: bytes, signatures: list[DecoratedSignature]) -> None:
        self._hash = tx_hash
        self._signatures = signatures
        self._used = [False] * len(signatures)
        self._verified: dict[tuple[str, int], bool] = {}

    def check(self, signers: list[tuple[str, int]], needed: int) -> bool:
        """True when distinct matching signers reach `needed` (at least one is always needed)."""
        needed = max(needed, 1)
        total = 0
        for key, weight in signers:
            if weight <= 0:
                continue
            if key.startswith("T"):
                if StrKey.decode_pre_auth_tx(key) == self._hash:
                    total += weight
            else:
                index = self._matching_signature(key)
                if index is None:
                    continue
                self._used[index] = True
                total += weight
            if total >= needed:
                return True
        return False

    def all_used(self) -> bool:
        return all(self._used)

    def _matching_signature(self, key: str) -> int | None:
        for index, sig in enumerate(self._signatures):
            if self._verifies(key, index, sig):
                return index
        return None

    def _verifies(self, key: str, index: int, sig: DecoratedSignature) -> bool:
        cached = self._verified.get((key, index))
        if cached is not None:
            return cached
        ok = False
        if key.startswith("G"):
            keypair = Keypair.from_public_key(key)
            if sig.signature_hint == keypair.signature_hint():
                try:
                    keypair.verify(self._hash, sig.signature)
                    ok = True
                except BadSignatureError:
                    ok = False
        elif key.startswith("X"):
            digest = StrKey.decode_sha256_hash(key)
            ok = sig.signature_hint == digest[-4:] and (
                hashlib.sha256(sig.signature).digest() == digest
            )
        self._verified[(key, index)] = ok
        return ok
