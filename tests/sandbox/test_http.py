"""The HTTP surface: problem bodies, paging links, CORS, and the client's transports."""

from __future__ import annotations

import httpx
import pytest
from stellar_sdk import Keypair, ServerAsync
from stellar_sdk.exceptions import BadRequestError, ConnectionError, NotFoundError

from killick.sandbox import SandboxNetwork, create_sandbox_app
from killick.stellar import HttpxAsyncClient

ORIGIN = {"Origin": "https://wallet.example"}


async def test_unknown_account_and_transaction_are_404_problems(chain):
    with pytest.raises(NotFoundError) as info:
        await chain.account(Keypair.random().public_key)
    assert info.value.status == 404
    assert info.value.type == "https://stellar.org/horizon-errors/not_found"
    assert info.value.title == "Resource Missing"
    with pytest.raises(NotFoundError):
        await chain.server.transactions().transaction("ab" * 32).call()


async def test_bad_paging_parameters_are_400_problems(chain):
    with pytest.raises(BadRequestError) as info:
        await chain.server.payments().limit(500).call()
    assert info.value.type == "https://stellar.org/horizon-errors/bad_request"
    assert info.value.extras["invalid_field"] == "limit"
    with pytest.raises(BadRequestError) as info:
        await chain.server.payments().cursor("yesterday").call()
    assert info.value.extras["invalid_field"] == "cursor"
    with pytest.raises(BadRequestError) as info:
        await chain.server.accounts().account_id("not-an-account").call()
    assert info.value.extras["invalid_field"] == "account_id"


async def test_ledgers_page_ascending_by_default_and_links_are_followable(chain):
    for _ in range(3):
        await chain.network.close_ledger()
    builder = chain.server.ledgers().limit(2)
    first = await builder.call()
    assert [r["sequence"] for r in first["_embedded"]["records"]] == [1, 2]
    second = await builder.next()
    assert [r["sequence"] for r in second["_embedded"]["records"]] == [3, 4]
    back = await builder.prev()
    assert [r["sequence"] for r in back["_embedded"]["records"]] == [2, 1]
    closed = chain.network.latest_ledger.sequence
    latest = await chain.server.ledgers().order(desc=True).limit(1).call()
    record = latest["_embedded"]["records"][0]
    assert record["sequence"] >= closed  # the timer may have closed another one meanwhile
    assert record["base_fee_in_stroops"] == 100 and record["base_reserve_in_stroops"] == 5_000_000


async def test_cors_on_errors_and_preflight(chain):
    missing = await chain.http.get(f"/accounts/{Keypair.random().public_key}", headers=ORIGIN)
    assert missing.status_code == 404
    assert missing.headers["access-control-allow-origin"] == ORIGIN["Origin"]
    assert missing.headers["content-type"].startswith("application/problem+json")
    nowhere = await chain.http.get("/no/such/route", headers=ORIGIN)
    assert nowhere.status_code == 404
    assert nowhere.json()["type"] == "https://stellar.org/horizon-errors/not_found"
    assert "access-control-allow-origin" in nowhere.headers
    chain.network.faults.rate_limit(requests=1)
    limited = await chain.http.get("/", headers=ORIGIN)
    assert limited.status_code == 429 and "access-control-allow-origin" in limited.headers

    preflight = await chain.http.options(
        "/transactions",
        headers={
            **ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-client-name, x-client-version, content-type",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == ORIGIN["Origin"]
    allowed = preflight.headers["access-control-allow-headers"].lower()
    for header in ("x-client-name", "x-client-version", "content-type"):
        assert header in allowed
    assert "POST" in preflight.headers["access-control-allow-methods"]


async def test_client_works_over_asgi_transport():
    """Tests of Killick components can mount the sandbox in-process."""
    network = SandboxNetwork()
    app = create_sandbox_app(network)
    async with HttpxAsyncClient(transport=httpx.ASGITransport(app)) as client:
        server = ServerAsync("http://sandbox", client=client)
        root = await server.root().call()
        assert root["network_passphrase"] == network.network_passphrase
        root_account = await server.load_account(network.root_keypair.public_key)
        assert root_account.sequence == 0


async def test_client_maps_transport_failures_to_connection_error():
    async with HttpxAsyncClient(request_timeout=2) as client:
        server = ServerAsync("http://127.0.0.1:9", client=client)
        with pytest.raises(ConnectionError):
            await server.root().call()
