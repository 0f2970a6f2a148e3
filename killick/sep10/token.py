"""``SEP10Token``: the identity a SEP-10 session JWT proves, and its encoding."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from stellar_sdk import MuxedAccount, StrKey

JWT_ALGORITHM = "HS256"


class InvalidToken(Exception):
    """The JWT is missing, malformed, expired or not ours (the message says which)."""


def _parse_subject(sub: str) -> tuple[str, str | None, str | None]:
    """``sub`` -> (G account, memo, muxed account); refuses anything else."""
    if sub.startswith("M"):
        try:
            muxed = MuxedAccount.from_account(sub)
        except ValueError:
            raise InvalidToken("token subject is not a valid muxed account") from None
        if muxed.account_muxed_id is None:
            raise InvalidToken("token subject is not a valid muxed account")
        return muxed.account_id, None, sub
    account, _, memo = sub.partition(":")
    if not StrKey.is_valid_ed25519_public_key(account):
        raise InvalidToken("token subject is not a Stellar account")
    if memo and (not memo.isdigit() or int(memo) >= 2**64):
        raise InvalidToken("token subject memo is not an unsigned 64-bit id")
    return account, memo or None, None


@dataclass(frozen=True)
class SEP10Token:
    """Who the wallet proved to be.

    ``principal`` is the key that owns transactions, customers and quotes: the muxed
    account, or the account with its memo, or the plain account. The django-polaris
    habit ``token.muxed_account or token.stellar_account`` merges the memo sub-users of
    a shared account; use ``token.principal`` instead.
    """

    account: str
    memo: str | None
    muxed_account: str | None
    client_domain: str | None
    issued_at: datetime
    expires_at: datetime
    jti: str | None = None
    issuer: str | None = None

    @property
    def stellar_account(self) -> str:
        return self.account

    @property
    def principal(self) -> str:
        if self.muxed_account:
            return self.muxed_account
        if self.memo:
            return f"{self.account}:{self.memo}"
        return self.account

    @property
    def sub(self) -> str:
        return self.principal

    @classmethod
    def issue(
        cls,
        *,
        account: str,
        memo: str | None = None,
        muxed_account: str | None = None,
        client_domain: str | None = None,
        issuer: str,
        lifetime: timedelta,
        jti: str | None = None,
        now: datetime | None = None,
    ) -> SEP10Token:
        issued = (now or datetime.now(UTC)).replace(microsecond=0)
        return cls(
            account=account,
            memo=memo,
            muxed_account=muxed_account,
            client_domain=client_domain,
            issued_at=issued,
            expires_at=issued + lifetime,
            jti=jti or uuid.uuid4().hex,
            issuer=issuer,
        )

    def encode(self, key: str) -> str:
        claims: dict[str, object] = {
            "iss": self.issuer,
            "sub": self.sub,
            "iat": int(self.issued_at.timestamp()),
            "exp": int(self.expires_at.timestamp()),
            "jti": self.jti,
        }
        if self.client_domain:
            claims["client_domain"] = self.client_domain
        return jwt.encode(claims, key, algorithm=JWT_ALGORITHM)

    @classmethod
    def decode(cls, encoded: str, key: str, issuer: str) -> SEP10Token:
        """Verify signature, algorithm, issuer and expiry; refuse ``alg: none`` and others."""
        try:
            claims = jwt.decode(
                encoded,
                key,
                algorithms=[JWT_ALGORITHM],
                issuer=issuer,
                options={"require": ["iss", "sub", "iat", "exp"]},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("token expired; authenticate again with SEP-10") from None
        except jwt.PyJWTError:
            raise InvalidToken("token is not valid for this server") from None
        sub = claims.get("sub")
        if not isinstance(sub, str):
            raise InvalidToken("token subject is missing")
        account, memo, muxed = _parse_subject(sub)
        client_domain = claims.get("client_domain")
        return cls(
            account=account,
            memo=memo,
            muxed_account=muxed,
            client_domain=client_domain if isinstance(client_domain, str) else None,
            issued_at=datetime.fromtimestamp(int(claims["iat"]), UTC),
            expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
            jti=claims.get("jti"),
            issuer=claims.get("iss"),
        )
