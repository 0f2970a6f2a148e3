"""Signing callback bodies the way SEP-6 and SEP-12 say (CHECKLIST X-08).

The header is ``Signature: t=<unix seconds>, s=<base64 signature>``, the signature being
ed25519 over ``<t>.<host of the callback URL>.<body>`` with the stellar.toml SIGNING_KEY.
Sign at the moment of sending, and again on every retry: wallets drop old callbacks.
"""

from __future__ import annotations

import base64
import time
from urllib.parse import urlsplit

from stellar_sdk import Keypair
from stellar_sdk.exceptions import BadSignatureError

SIGNATURE_HEADER = "Signature"


def _payload(timestamp: int, url: str, body: bytes) -> bytes:
    host = urlsplit(url).netloc
    return f"{timestamp}.{host}.".encode() + body


def sign_callback(keypair: Keypair, url: str, body: bytes, *, now: float | None = None) -> str:
    """The value of the ``Signature`` header for POSTing ``body`` (exact bytes) to ``url``."""
    timestamp = int(time.time() if now is None else now)
    signature = keypair.sign(_payload(timestamp, url, body))
    return f"t={timestamp}, s={base64.b64encode(signature).decode()}"


def verify_callback(
    public_key: str, url: str, body: bytes, header: str, *, max_age: int = 120
) -> bool:
    """What a wallet does on receipt: check the signature and that it is fresh."""
    try:
        parts = dict(item.strip().split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
        signature = base64.b64decode(parts["s"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > max_age:
        return False
    try:
        Keypair.from_public_key(public_key).verify(_payload(timestamp, url, body), signature)
    except BadSignatureError:
        return False
    return True
