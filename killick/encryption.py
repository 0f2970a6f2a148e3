"""Encryption at rest for secret seeds (distribution and channel accounts).

Each key in ``ENCRYPTION_KEYS`` (newest first; ``SERVER_JWT_KEY`` when unset) is
stretched once per process with HKDF-SHA256 into a Fernet key. The first key encrypts;
all of them decrypt, so a key can be rotated by putting the new one first, running
``killick keys reencrypt``, and then removing the old one.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_HKDF_INFO = b"killick seed encryption v1"


class DecryptionError(Exception):
    """A stored secret could not be decrypted with any configured key."""


def _derive(secret: str) -> Fernet:
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(
        secret.encode()
    )
    return Fernet(base64.urlsafe_b64encode(raw))


class SeedCipher:
    """Encrypts and decrypts short secrets with the configured keys (derived once)."""

    def __init__(self, secrets: Sequence[str]) -> None:
        if not secrets:
            raise ValueError("at least one encryption key is required")
        self._fernet = MultiFernet([_derive(s) for s in secrets])

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise DecryptionError(
                "a stored seed cannot be decrypted with ENCRYPTION_KEYS; "
                "was the key rotated without keeping the old one?"
            ) from None

    def rotate(self, token: str) -> str:
        """Re-encrypt a token under the first (newest) key."""
        try:
            return self._fernet.rotate(token.encode()).decode()
        except InvalidToken:
            raise DecryptionError("a stored seed cannot be decrypted for rotation") from None
