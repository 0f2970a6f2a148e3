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
