"""Values and builders the tests share (imported, unlike conftest, as one module)."""

from __future__ import annotations

from typing import Any

from stellar_sdk import Keypair

from killick.settings import Settings

SIGNING = Keypair.random()
JWT_KEY = "test-jwt-key-" + "x" * 40


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "SIGNING_SEED": SIGNING.secret,
        "SERVER_JWT_KEY": JWT_KEY,
        "HOST_URL": "http://testserver",
        "HORIZON_URI": "http://127.0.0.1:8001",
        "LOCAL_MODE": True,
        "ENABLE_SEP_0023": True,
        "DATABASE_URL": "sqlite:///unused.db",
        "CONFIG_RECHECK_SECONDS": 0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def bearer(
    account: str | None = None,
    *,
    memo: str | None = None,
    muxed_account: str | None = None,
    client_domain: str | None = None,
    lifetime_seconds: int = 3600,
    host_url: str = "http://testserver",
) -> dict[str, str]:
    """An Authorization header with a SEP-10 token, as POST /auth would issue it."""
    from datetime import timedelta

    from stellar_sdk import MuxedAccount

    from killick.sep10.token import SEP10Token

    if muxed_account is not None:
        account = MuxedAccount.from_account(muxed_account).account_id
    token = SEP10Token.issue(
        account=account or Keypair.random().public_key,
        memo=memo,
        muxed_account=muxed_account,
        client_domain=client_domain,
        issuer=host_url + "/auth",
        lifetime=timedelta(seconds=lifetime_seconds),
    )
    return {"Authorization": f"Bearer {token.encode(JWT_KEY)}"}
