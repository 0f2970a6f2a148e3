"""Building and checking SEP-10 challenge transactions.

Building uses the process's already-derived server keypair (stellar-sdk's builder would
derive it from the seed on every request); reading and verifying are stellar-sdk's own
``stellar_web_authentication`` functions, plus the checks the spec's server list leaves
to clients (CHECKLIST P-03, S10-22).
"""

from __future__ import annotations

import base64
import os
import time
from dataclasses import dataclass

from stellar_sdk import Account, Keypair, ManageData, TransactionBuilder
from stellar_sdk.sep.ed25519_public_key_signer import Ed25519PublicKeySigner
from stellar_sdk.sep.stellar_web_authentication import (
    ChallengeTransaction,
    read_challenge_transaction,
    verify_challenge_transaction_signers,
    verify_challenge_transaction_threshold,
)


class ChallengeError(ValueError):
    """The signed challenge is not acceptable; the message says why (safe to show)."""


def build_challenge(
    server: Keypair,
    *,
    client_account: str,
    home_domain: str,
    web_auth_domain: str,
    network_passphrase: str,
    timeout: int,
    memo: int | None = None,
    client_domain: str | None = None,
    client_signing_key: str | None = None,
    now: int | None = None,
) -> str:
    """A signed challenge: sequence 0, time bounds, nonce op for the client, web_auth_domain."""
    now = int(time.time()) if now is None else now
    builder = TransactionBuilder(Account(server.public_key, -1), network_passphrase, 100)
    builder.add_time_bounds(now, now + timeout)
    builder.append_manage_data_op(
        f"{home_domain} auth", base64.b64encode(os.urandom(48)), source=client_account
    )
    builder.append_manage_data_op("web_auth_domain", web_auth_domain, source=server.public_key)
    if client_domain and client_signing_key:
        builder.append_manage_data_op("client_domain", client_domain, source=client_signing_key)
    if memo is not None:
        builder.add_id_memo(memo)
    transaction = builder.build()
    transaction.sign(server)
    return transaction.to_xdr()


@dataclass(frozen=True)
class ReadChallenge:
    challenge: ChallengeTransaction
    client_account: str  # G... or M...
    memo: str | None
    client_domain: str | None
    client_domain_key: str | None
    hash: str
    expires_at: int


def read_challenge(
    xdr: str,
    *,
    server_account: str,
    home_domains: tuple[str, ...],
    web_auth_domain: str,
    network_passphrase: str,
) -> ReadChallenge:
    """Parse and check everything except the client's signatures."""
    try:
        challenge = read_challenge_transaction(
            xdr, server_account, list(home_domains), web_auth_domain, network_passphrase
        )
    except Exception as error:  # the SDK raises several types for bad XDR
        raise ChallengeError(_message(error)) from None
    transaction = challenge.transaction.transaction
    operations = transaction.operations
    if not any(
        isinstance(op, ManageData) and op.data_name == "web_auth_domain" for op in operations[1:]
    ):
        raise ChallengeError("challenge has no web_auth_domain operation")
    client_domain = client_domain_key = None
    for op in operations[1:]:
        if isinstance(op, ManageData) and op.data_name == "client_domain":
            if client_domain is not None or op.data_value is None or op.source is None:
                raise ChallengeError("challenge has an invalid client_domain operation")
            client_domain = op.data_value.decode()
            client_domain_key = op.source.account_id
    bounds = transaction.preconditions.time_bounds  # type: ignore[union-attr]
    return ReadChallenge(
        challenge=challenge,
        client_account=challenge.client_account_id,
        memo=str(challenge.memo) if challenge.memo is not None else None,
        client_domain=client_domain,
        client_domain_key=client_domain_key,
        hash=challenge.transaction.hash_hex(),
        expires_at=bounds.max_time,  # type: ignore[union-attr]
    )


def verify_signers(
    xdr: str,
    *,
    server_account: str,
    home_domains: tuple[str, ...],
    web_auth_domain: str,
    network_passphrase: str,
    signers: list[Ed25519PublicKeySigner],
    threshold: int,
) -> None:
    """An existing account: signatures of its signers must meet ``threshold``; every
    signature must belong to a signer (or the server, or the client domain key)."""
    try:
        verify_challenge_transaction_threshold(
            xdr,
            server_account,
            list(home_domains),
            web_auth_domain,
            network_passphrase,
            threshold,
            signers,
        )
    except Exception as error:
        raise ChallengeError(_message(error)) from None


def verify_master_key(
    xdr: str,
    *,
    account: str,
    server_account: str,
    home_domains: tuple[str, ...],
    web_auth_domain: str,
    network_passphrase: str,
) -> None:
    """An account that does not exist: only its master key may sign (with the server and,
    when present, the client domain key: 2 or 3 signatures in all)."""
    try:
        verify_challenge_transaction_signers(
            xdr,
            server_account,
            list(home_domains),
            web_auth_domain,
            network_passphrase,
            [Ed25519PublicKeySigner(account, 255)],
        )
    except Exception as error:
        raise ChallengeError(_message(error)) from None


def _message(error: Exception) -> str:
    text = str(error).strip() or type(error).__name__
    return f"invalid challenge: {text}"
