"""Logs: one line per event, JSON when asked, and no secret in any line, ever."""

from __future__ import annotations

import json
import logging

import pytest
from stellar_sdk import Keypair

from killick.logging_setup import (
    AccessPathOnly,
    KillickFormatter,
    logging_config,
    redact,
)
from tests.helpers import bearer

SEED = Keypair.random().secret
JWT = bearer()["Authorization"].removeprefix("Bearer ")


@pytest.mark.parametrize(
    "text",
    [
        f"loaded seed {SEED} for the channel",
        f"token={JWT}",
        f"headers: {{'Authorization': 'Bearer {JWT}'}}",
        "Authorization: Basic dXNlcjpwYXNzd29yZA==",
        "authorization=sk_live_abcdef",
        f"[(b'authorization', b'Bearer {JWT[:20]}')]",
    ],
)
def test_redact_masks_seeds_jwts_and_authorization(text: str) -> None:
    cleaned = redact(text)
    assert "[redacted]" in cleaned
    for secret in (SEED, JWT, JWT[:20], "dXNlcjpwYXNzd29yZA==", "sk_live_abcdef"):
        assert secret not in cleaned


def test_redact_keeps_what_is_not_secret() -> None:
    text = f"transaction 1b4e28ba-2fa1-11d2-883f-0016d3cca427: paid {Keypair.random().public_key}"
    assert redact(text) == text


def record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    made = logging.LogRecord("killick.workers", logging.INFO, __file__, 1, message, args, None)
    made.__dict__.update(extra)
    return made


def test_json_lines_carry_the_transaction_id_and_extras() -> None:
    formatter = KillickFormatter(json_lines=True)
    line = formatter.format(
        record("deposit %s: paid\nsecond line %s", "1b4e28ba-2fa1-11d2-883f-0016d3cca427", SEED)
    )
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["transaction_id"] == "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
    assert entry["level"] == "INFO" and entry["logger"] == "killick.workers"
    assert SEED not in line and "[redacted]" in entry["message"]
    explicit = json.loads(formatter.format(record("moved", transaction_id="abc", actor="admin")))
    assert (explicit["transaction_id"], explicit["actor"]) == ("abc", "admin")
    try:
        raise RuntimeError(f"boom {SEED}")
    except RuntimeError:
        import sys

        failed = record("loop failed")
        failed.exc_info = sys.exc_info()
    line = formatter.format(failed)
    assert "\n" not in line and SEED not in line and "RuntimeError" in json.loads(line)["exception"]


def test_access_lines_drop_the_query_string() -> None:
    access = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", "/sep6/deposit?email_address=ada@example.com", "1.1", 200),
        None,
    )
    AccessPathOnly().filter(access)
    assert access.getMessage() == '127.0.0.1:5 - "GET /sep6/deposit HTTP/1.1" 200'


def test_the_config_applies_to_uvicorn_and_quietens_httpx() -> None:
    config = logging_config("json", "WARNING")
    assert config["root"]["level"] == "WARNING"
    assert config["formatters"]["killick"]["json_lines"] is True
    assert config["loggers"]["uvicorn.access"]["filters"] == ["access_path_only"]
    assert config["loggers"]["httpx"]["level"] == "WARNING"
