"""Fuzzing every operation of ``/openapi.json`` with schemathesis, through ASGI.

Each operation gets a bounded number of generated requests (valid and invalid, with a
valid SEP-10 token), so CI stays fast. Checks: never a 5xx, every answer is JSON, every
error is ``{"error": "..."}`` (or SEP-6's 403 ``{"type": "authentication_required"}``),
and the answer's status code and body agree with the schema.

SQLite only: what is fuzzed is the request layer (parsing, validation, routing, error
shapes); the database paths behind it run on both databases in the other tests.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)
from stellar_sdk import Keypair

from killick.app import create_app
from killick.db import create_engine, session_factory
from killick.encryption import SeedCipher
from killick.integrations import register_integrations
from tests.helpers import JWT_KEY, bearer, make_settings
from tests.sep6_support import StubDeposit, StubWithdraw
from tests.sep12_support import MemoryCustomers
from tests.sep38_support import ACTIVE, add_market

# Per operation; KILLICK_FUZZ_EXAMPLES=2000 for a deeper run by hand.
MAX_EXAMPLES = int(os.environ.get("KILLICK_FUZZ_EXAMPLES", "100"))
TOKEN = bearer(Keypair.random().public_key)


@pytest.fixture(scope="module")
def fuzz_world(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory):
    """The app on its own SQLite copy with a USDC/BRL market, and one ASGI client for all
    calls (one event loop, so the engine's connections stay usable)."""
    path = tmp_path_factory.mktemp("fuzz") / "killick.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"

    async def seed():
        engine = create_engine(url)
        try:
            return await add_market(session_factory(engine), SeedCipher([JWT_KEY]))
        finally:
            await engine.dispose()

    market = asyncio.run(seed())
    app = create_app(
        make_settings(
            DATABASE_URL=url,
            ACTIVE_SEPS=ACTIVE,
            RATE_LIMIT_AUTH=0,
            RATE_LIMIT_CUSTOMER=0,
            RATE_LIMIT_TRANSFERS=0,
        )
    )
    with asgi.get_client(app) as client:
        yield app, client, market


@pytest.fixture(autouse=True)
def _hooks(request: pytest.FixtureRequest) -> Iterator[None]:
    if "fuzz_world" in request.fixturenames:
        _app, _client, market = request.getfixturevalue("fuzz_world")
        register_integrations(
            deposit=StubDeposit(),
            withdraw=StubWithdraw(),
            customer=MemoryCustomers(),
            quote=market.quotes,
        )
    yield


@pytest.fixture(scope="module")
def fuzz_schema(fuzz_world):
    app, _client, _market = fuzz_world
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def _operations() -> list[str]:
    """Operation labels ("GET /sep6/info"), read from the schema of an app like the one
    fuzzed (building an app connects to nothing)."""
    app = create_app(make_settings(ACTIVE_SEPS=ACTIVE))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    return sorted(result.ok().label for result in schema.get_all_operations())


def error_shape(ctx, response, case) -> bool | None:
    """Every error is JSON {"error": text} (SEP-6's 403 has its own)."""
    if response.status_code < 400:
        return None
    body = response.json()
    if response.status_code == 403 and body == {"type": "authentication_required"}:
        return None
    assert isinstance(body, dict) and isinstance(body.get("error"), str), body
    return None


@pytest.mark.parametrize("label", _operations())
def test_fuzz(label: str, fuzz_world, fuzz_schema) -> None:
    _app, client, _market = fuzz_world
    method, path = label.split(" ", 1)
    operation = fuzz_schema[path][method]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def fuzz(case) -> None:
        case.headers = {**(case.headers or {}), **TOKEN}
        response = case.call(session=client)
        case.validate_response(
            response,
            checks=[
                not_a_server_error,
                error_shape,
                status_code_conformance,
                response_schema_conformance,
            ],
        )

    fuzz()
