"""SEP-10 session tokens: the three subject forms, and every way a token is refused."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from stellar_sdk import Keypair, MuxedAccount

from killick.sep10 import InvalidToken, SEP10Token
from tests.helpers import JWT_KEY

ISSUER = "http://testserver/auth"


def issue(**values: object) -> SEP10Token:
    values.setdefault("account", Keypair.random().public_key)
    return SEP10Token.issue(issuer=ISSUER, lifetime=timedelta(hours=1), **values)  # type: ignore[arg-type]


def test_plain_memo_and_muxed_subjects_round_trip() -> None:
    account = Keypair.random().public_key
    muxed = MuxedAccount(account, 2**63 + 5).account_muxed
    for token, sub in [
        (issue(account=account), account),
        (issue(account=account, memo="18446744073709551615"), f"{account}:18446744073709551615"),
        (issue(account=account, muxed_account=muxed), muxed),
    ]:
        decoded = SEP10Token.decode(token.encode(JWT_KEY), JWT_KEY, ISSUER)
        assert decoded.principal == sub
        assert decoded.stellar_account == account
        assert decoded.expires_at - decoded.issued_at == timedelta(hours=1)
        assert jwt.decode(token.encode(JWT_KEY), options={"verify_signature": False})["sub"] == sub


def test_client_domain_claim_only_when_present() -> None:
    plain = jwt.decode(issue().encode(JWT_KEY), options={"verify_signature": False})
    assert "client_domain" not in plain
    with_domain = SEP10Token.decode(
        issue(client_domain="wallet.example").encode(JWT_KEY), JWT_KEY, ISSUER
    )
    assert with_domain.client_domain == "wallet.example"


@pytest.mark.parametrize(
    "make",
    [
        lambda: SEP10Token.issue(
            account=Keypair.random().public_key, issuer=ISSUER, lifetime=timedelta(seconds=-10)
        ).encode(JWT_KEY),
        lambda: issue().encode("another-key-" + "y" * 40),
        lambda: SEP10Token.issue(
            account=Keypair.random().public_key,
            issuer="https://evil/auth",
            lifetime=timedelta(hours=1),
        ).encode(JWT_KEY),
        lambda: jwt.encode(
            {"iss": ISSUER, "sub": Keypair.random().public_key, "iat": 1, "exp": 2**40},
            None,
            algorithm="none",
        ),
        lambda: jwt.encode(
            {"iss": ISSUER, "sub": "GBAD", "iat": 1, "exp": 2**40}, JWT_KEY, algorithm="HS256"
        ),
        lambda: jwt.encode(
            {"iss": ISSUER, "sub": Keypair.random().public_key + ":x", "iat": 1, "exp": 2**40},
            JWT_KEY,
            algorithm="HS256",
        ),
        lambda: "not.a.jwt",
    ],
    ids=["expired", "other-key", "other-issuer", "alg-none", "bad-sub", "bad-memo", "garbage"],
)
def test_bad_tokens_are_refused(make) -> None:
    with pytest.raises(InvalidToken):
        SEP10Token.decode(make(), JWT_KEY, ISSUER)
