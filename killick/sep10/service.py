"""SEP-10 rules: who may get a challenge, and when a signed one earns a token."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from stellar_sdk import MuxedAccount, StrKey

from killick.context import Context
from killick.errors import APIError, bad_request
from killick.sep10 import challenge as challenges
from killick.sep10.accounts import HorizonUnavailable, load_signers
from killick.sep10.auth import token_issuer
from killick.sep10.client_domain import ClientDomainError, ClientDomainKeys
from killick.sep10.store import (
    AccountModeConflict,
    ChallengeReused,
    check_account_mode,
    purge_expired,
    use_challenge,
)
from killick.sep10.token import SEP10Token

PURGE_EVERY_SECONDS = 300.0


def parse_account(value: str, *, muxed_allowed: bool) -> tuple[str, str | None]:
    """``account`` parameter -> (G account, muxed M account or None); 400 when invalid."""
    if StrKey.is_valid_ed25519_public_key(value):
        return value, None
    if value.startswith("M") and StrKey.is_valid_med25519_public_key(value):
        if not muxed_allowed:
            raise bad_request("account: muxed (M...) accounts are not enabled on this server")
        return MuxedAccount.from_account(value).account_id, value
    if value.startswith("C"):
        raise bad_request("account: contract (C...) accounts are not supported")
    raise bad_request("account: not a valid Stellar account (G... or M...)")


def parse_memo(value: str | None) -> int | None:
    if value is None:
        return None
    if not value.isdigit() or int(value) >= 2**64:
        raise bad_request("memo: must be an unsigned 64-bit integer (an id memo)")
    return int(value)


class WebAuth:
    """Built once per app: keys and domains derived from settings."""

    def __init__(self, context: Context) -> None:
        self.context = context
        settings = context.settings
        self.server = settings.signing_keypair
        self.home_domains = settings.home_domains
        self.web_auth_domain = settings.host
        self.passphrase = settings.STELLAR_NETWORK_PASSPHRASE
        self.client_keys = ClientDomainKeys(
            timeout=settings.SEP10_CLIENT_DOMAIN_TIMEOUT, allow_http=settings.LOCAL_MODE
        )
        self._purged_at = 0.0

    async def challenge(
        self, account: str, memo: str | None, home_domain: str | None, client_domain: str | None
    ) -> str:
        settings = self.context.settings
        _, muxed = parse_account(account, muxed_allowed=settings.ENABLE_SEP_0023)
        memo_id = parse_memo(memo)
        if muxed and memo_id is not None:
            raise bad_request("memo: not allowed with a muxed (M...) account")
        home = (home_domain or self.home_domains[0]).lower()
        if home not in self.home_domains:
            raise bad_request(f"home_domain: this server does not serve {home_domain!r}")
        client_key = await self._client_domain_key(client_domain)
        return challenges.build_challenge(
            self.server,
            client_account=account,
            home_domain=home,
            web_auth_domain=self.web_auth_domain,
            network_passphrase=self.passphrase,
            timeout=settings.SEP10_CHALLENGE_TIMEOUT,
            memo=memo_id,
            client_domain=client_domain if client_key else None,
            client_signing_key=client_key,
        )

    async def _client_domain_key(self, domain: str | None) -> str | None:
        settings = self.context.settings
        if not domain:
            if settings.SEP10_CLIENT_ATTRIBUTION_REQUIRED:
                raise bad_request("client_domain: required by this server")
            return None
        domain = domain.lower()
        if domain in settings.SEP10_CLIENT_ATTRIBUTION_DENYLIST:
            raise APIError(403, f"client_domain: {domain} is not allowed")
        allowlist = settings.SEP10_CLIENT_ATTRIBUTION_ALLOWLIST
        if allowlist and domain not in allowlist:
            raise APIError(403, f"client_domain: {domain} is not allowed")
        try:
            return await self.client_keys.signing_key(domain)
        except ClientDomainError as error:
            raise bad_request(f"client_domain: {error}") from None

    async def token(self, session: AsyncSession, xdr: str) -> str:
        settings = self.context.settings
        common = {
            "server_account": self.server.public_key,
            "home_domains": self.home_domains,
            "web_auth_domain": self.web_auth_domain,
            "network_passphrase": self.passphrase,
        }
        try:
            read = challenges.read_challenge(xdr, **common)
        except challenges.ChallengeError as error:
            raise bad_request(str(error)) from None
        account, muxed = parse_account(read.client_account, muxed_allowed=settings.ENABLE_SEP_0023)
        try:
            found = await load_signers(self.context.horizon(), account)
        except HorizonUnavailable:
            raise APIError(503, "the Stellar network (Horizon) is unavailable; try again") from None
        try:
            if found is None:
                challenges.verify_master_key(xdr, account=account, **common)
            else:
                challenges.verify_signers(
                    xdr, signers=found.signers, threshold=found.medium_threshold, **common
                )
        except challenges.ChallengeError as error:
            raise bad_request(str(error)) from None
        await self._purge(session)
        try:
            await use_challenge(session, read.hash, read.expires_at)
            await check_account_mode(session, account, shared=bool(read.memo or muxed))
        except ChallengeReused:
            raise bad_request("invalid challenge: it was already used; request a new one") from None
        except AccountModeConflict:
            raise bad_request(
                "account: this account authenticates "
                + (
                    "without a memo or muxed id"
                    if read.memo or muxed
                    else "with a memo or muxed id"
                )
                + " on this server (a shared account always uses one, CHECKLIST S10-33)"
            ) from None
        await session.commit()
        token = SEP10Token.issue(
            account=account,
            memo=read.memo,
            muxed_account=muxed,
            client_domain=read.client_domain,
            issuer=token_issuer(self.context),
            lifetime=timedelta(seconds=settings.SEP10_JWT_LIFETIME),
            jti=read.hash,
        )
        return token.encode(settings.SERVER_JWT_KEY.get_secret_value())

    async def _purge(self, session: AsyncSession) -> None:
        now = time.monotonic()
        if now - self._purged_at >= PURGE_EVERY_SECONDS:
            self._purged_at = now
            await purge_expired(session, datetime.now(UTC))
