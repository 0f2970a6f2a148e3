"""Callback signatures as SEP-6/SEP-12 wallets verify them."""

from __future__ import annotations

from stellar_sdk import Keypair

from killick.signatures import sign_callback, verify_callback

URL = "https://wallet.example:8443/callbacks/1?x=y"


def test_signed_body_verifies_with_the_signing_key() -> None:
    keypair = Keypair.random()
    body = b'{"transaction": {"id": "1"}}'
    header = sign_callback(keypair, URL, body)
    assert header.startswith("t=")
    assert verify_callback(keypair.public_key, URL, body, header)


def test_changed_body_host_key_or_age_fails() -> None:
    keypair = Keypair.random()
    body = b'{"a": 1}'
    header = sign_callback(keypair, URL, body)
    assert not verify_callback(keypair.public_key, URL, b'{"a": 2}', header)
    assert not verify_callback(keypair.public_key, "https://other.example/cb", body, header)
    assert not verify_callback(Keypair.random().public_key, URL, body, header)
    stale = sign_callback(keypair, URL, body, now=1_000_000)
    assert not verify_callback(keypair.public_key, URL, body, stale)
    assert not verify_callback(keypair.public_key, URL, body, "garbage")
