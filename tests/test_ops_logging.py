"""Logs: one line per event, JSON when asked, and no secret in any line, ever."""

from __future__ import annotations

import asyncio
import importlib
import io
import json
import logging
from decimal import Decimal

import pytest
from sqlalchemy import select
from stellar_sdk import Keypair

from killick.app import create_app
from killick.context import Context
from killick.demo import SAMPLE_KYC, run_demo
from killick.dev import ensure_demo_asset
from killick.logging_setup import (
    AccessPathOnly,
    KillickFormatter,
    RedactFilter,
    logging_config,
    redact,
)
from killick.models import Asset, ChannelAccount
from killick.sandbox import running_sandbox
from killick.workers import build_worker
from tests.helpers import JWT_KEY, SIGNING, bearer, make_settings
from tests.servers import free_port, serve_asgi

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


# -- a whole deposit and withdrawal, every log line captured -----------------------------------


class Capture(logging.Handler):
    """Collects what a record says before any redaction, and the JSON lines after it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.raw: list[str] = []
        self.stream = io.StringIO()
        self.formatted = logging.StreamHandler(self.stream)
        self.formatted.setFormatter(KillickFormatter(json_lines=True))
        self.formatted.addFilter(RedactFilter())

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        self.raw.append(f"{record.name}: {text}")
        self.formatted.handle(logging.makeLogRecord(record.__dict__))


@pytest.fixture
def reference_anchor(tmp_path, monkeypatch):
    monkeypatch.setenv("REFERENCE_ANCHOR_DB", str(tmp_path / "reference.db"))
    monkeypatch.setenv("SIGNING_SEED", SIGNING.secret)
    monkeypatch.setenv("SERVER_JWT_KEY", JWT_KEY)
    monkeypatch.setenv("LOCAL_MODE", "1")
    import examples.reference_anchor.integrations as integrations

    importlib.reload(integrations)  # registers again after the registry was reset
    return integrations


@pytest.fixture
def capture():
    handler = Capture()
    root, killick = logging.getLogger(), logging.getLogger("killick")
    levels = (root.level, killick.level)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    killick.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(levels[0])
    killick.setLevel(levels[1])


async def test_no_secret_reaches_a_log_line(database_url, engine, reference_anchor, capture):
    async with running_sandbox(ledger_seconds=0.1) as sandbox:
        port = free_port()
        settings = make_settings(
            DATABASE_URL=database_url,
            HORIZON_URI=sandbox.url,
            HOST_URL=f"http://127.0.0.1:{port}",
            WORKER_POLL_SECONDS=0.1,
        )
        await ensure_demo_asset(settings)
        app = create_app(settings, engine=engine)
        context = Context.build(settings, engine)
        worker = build_worker(context, "logs-worker")
        task = asyncio.create_task(worker.run())
        try:
            async with serve_asgi(app, port=port):
                report = await run_demo(
                    f"http://127.0.0.1:{port}", amount=Decimal("100"), step_seconds=45
                )
        finally:
            worker.stop()
            await task
            await context.close()
        async with context.sessions() as session:
            asset = await session.scalar(select(Asset).where(Asset.code == "DEMO"))
            seeds = [asset.distribution_seed(context.cipher)]
            for channel in (await session.scalars(select(ChannelAccount))).all():
                seeds.append(context.cipher.decrypt(channel.seed_encrypted))
    assert any("withdrawal completed" in text for _, text in report.steps)
    assert len(seeds) >= 2 and all(seeds)

    secrets = [
        SIGNING.secret,
        JWT_KEY,
        *seeds,
        "eyJ",  # any JWT: the wallet's SEP-10 token
        *(value for value in SAMPLE_KYC.values() if len(value) >= 6),
    ]
    raw = "\n".join(capture.raw)
    formatted = capture.stream.getvalue()
    assert len(capture.raw) > 20, raw  # the flow was logged
    for secret in secrets:
        assert secret not in raw, f"{secret[:6]}… in a log record"
        assert secret not in formatted
    lines = formatted.splitlines()
    assert len(lines) == len(capture.raw)  # one line per event
    entries = [json.loads(line) for line in lines]
    deposit_id = report.figures["deposit"]["id"]
    assert any(entry.get("transaction_id") == deposit_id for entry in entries)
