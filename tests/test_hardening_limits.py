"""Limits: body and query sizes, rate limits shared through the database, and a timeout
on every outbound call (a peer that never answers gives a clean error, not a hang)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import httpx
from stellar_sdk import Keypair

from killick.app import create_app
from killick.columns import utcnow
from killick.context import Context
from killick.integrations import register_integrations
from killick.workers.callbacks import Callbacks, Delivery
from tests.helpers import bearer, make_settings
from tests.sep12_support import MemoryCustomers
from tests.test_sep10 import sign


def client_for(app, ip: str = "127.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(ip, 4321))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@contextlib.asynccontextmanager
async def silent_peer() -> AsyncIterator[str]:
    """A TCP server that accepts connections and never answers: yields host:port."""
    held: list[asyncio.StreamWriter] = []

    async def accept(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"127.0.0.1:{port}"
    finally:
        for writer in held:
            writer.close()
        server.close()


# -- sizes ----------------------------------------------------------------------------------


async def test_a_body_past_the_cap_is_413_json(database_url, engine) -> None:
    app = create_app(make_settings(DATABASE_URL=database_url, MAX_BODY_BYTES=2048), engine=engine)
    big = {"transaction": "A" * 4096}
    async with client_for(app) as client:
        declared = await client.post("/auth", json=big)

        async def chunks():  # no Content-Length: counted while it streams in
            for _ in range(8):
                yield b"A" * 1024

        streamed = await client.post(
            "/sep6/deposit",
            content=chunks(),
            headers={**bearer(), "content-type": "application/x-www-form-urlencoded"},
        )
        small = await client.post("/auth", json={"transaction": "x"})
    assert declared.status_code == 413 and "2048 bytes" in declared.json()["error"]
    assert declared.headers["access-control-allow-origin"] == "*"
    assert streamed.status_code == 413 and "error" in streamed.json()
    assert small.status_code == 400  # under the cap: the route answers


async def test_sep12_keeps_its_own_upload_cap(database_url, engine) -> None:
    register_integrations(customer=MemoryCustomers())
    app = create_app(make_settings(DATABASE_URL=database_url, MAX_BODY_BYTES=2048), engine=engine)
    headers = bearer(Keypair.random().public_key)
    async with client_for(app) as client:
        response = await client.post(
            "/kyc/customer/files",
            files={"file": ("id.png", b"\x89PNG" + b"0" * 8000, "image/png")},
            headers=headers,
        )
    assert response.status_code == 200, response.text


async def test_a_long_query_string_is_414(database_url, engine) -> None:
    app = create_app(make_settings(DATABASE_URL=database_url, MAX_QUERY_BYTES=512), engine=engine)
    async with client_for(app) as client:
        response = await client.get("/sep6/info", params={"lang": "x" * 600})
        fine = await client.get("/sep6/info")
    assert response.status_code == 414 and "512 bytes" in response.json()["error"]
    assert fine.status_code == 200


# -- rates ------------------------------------------------------------------------------------


async def test_auth_is_rate_limited_per_ip_across_processes(database_url, engine) -> None:
    settings = make_settings(DATABASE_URL=database_url, RATE_LIMIT_AUTH=3)
    one, two = create_app(settings, engine=engine), create_app(settings, engine=engine)
    account = Keypair.random().public_key
    async with client_for(one) as a, client_for(two) as b, client_for(one, "10.0.0.2") as other:
        answers = [await c.get("/auth", params={"account": account}) for c in (a, b, a)]
        refused = await b.get("/auth", params={"account": account})
        elsewhere = await other.get("/auth", params={"account": account})
        preflight = await a.options("/auth", headers={"access-control-request-method": "GET"})
    assert [r.status_code for r in answers] == [200, 200, 200]
    assert refused.status_code == 429 and "too many requests" in refused.json()["error"]
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.headers["access-control-allow-origin"] == "*"
    assert elsewhere.status_code == 200  # another client has its own count
    assert preflight.status_code == 204  # preflights are not counted


async def test_customer_is_rate_limited_per_principal_and_per_ip(database_url, engine) -> None:
    register_integrations(customer=MemoryCustomers())
    settings = make_settings(DATABASE_URL=database_url, RATE_LIMIT_CUSTOMER=2)
    app = create_app(settings, engine=engine)
    alice = bearer(Keypair.random().public_key)
    async with client_for(app, "10.0.0.1") as first, client_for(app, "10.0.0.2") as second:
        ok = [(await c.get("/kyc/customer", headers=alice)).status_code for c in (first, second)]
        same_token_new_ip = await client_for(app, "10.0.0.3").get("/kyc/customer", headers=alice)
        # A fresh token from an IP already at its limit is refused too.
        await first.get("/kyc/customer", headers=bearer())
        crowded = await first.get("/kyc/customer", headers=bearer())
    assert ok == [200, 200]
    assert same_token_new_ip.status_code == 429 and same_token_new_ip.headers["retry-after"]
    assert crowded.status_code == 429


async def test_starting_transfers_is_rate_limited_and_reads_are_not(database_url, engine) -> None:
    settings = make_settings(DATABASE_URL=database_url, RATE_LIMIT_TRANSFERS=2)
    app = create_app(settings, engine=engine)
    alice = bearer(Keypair.random().public_key)
    async with client_for(app, "10.0.0.1") as first, client_for(app, "10.0.0.2") as second:
        started = [
            (await first.get("/sep6/deposit", headers=alice)).status_code,
            (await first.post("/sep6/withdraw", headers=alice, json={})).status_code,
        ]
        refused = await first.get("/sep6/deposit", headers=alice)
        reads = [
            (await first.get("/sep6/info")).status_code,
            (await first.get("/sep6/transactions", headers=alice)).status_code,
        ]
        # The same principal from another address is over its limit too.
        quote = await second.post("/sep38/quote", headers=alice, json={})
        other = await second.get("/sep6/deposit", headers=bearer())
    assert 429 not in started  # counted, whatever their answer (here 400s)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    assert 429 not in reads
    assert quote.status_code == 429
    assert other.status_code != 429  # another wallet, another address


async def test_the_window_starts_over_and_zero_turns_limits_off(database_url, engine) -> None:
    settings = make_settings(
        DATABASE_URL=database_url, RATE_LIMIT_AUTH=1, RATE_LIMIT_WINDOW_SECONDS=1
    )
    app = create_app(settings, engine=engine)
    params = {"account": Keypair.random().public_key}
    async with client_for(app) as client:
        await asyncio.sleep(1 - time.time() % 1)  # the start of a window
        assert (await client.get("/auth", params=params)).status_code == 200
        assert (await client.get("/auth", params=params)).status_code == 429
        await asyncio.sleep(1.05)
        assert (await client.get("/auth", params=params)).status_code == 200
    off = create_app(make_settings(DATABASE_URL=database_url, RATE_LIMIT_AUTH=0), engine=engine)
    async with client_for(off) as client:
        codes = {(await client.get("/auth", params=params)).status_code for _ in range(5)}
    assert codes == {200}


# -- outbound timeouts ----------------------------------------------------------------------


async def test_a_silent_horizon_is_a_503_within_its_timeout(database_url, engine) -> None:
    async with silent_peer() as peer:
        settings = make_settings(
            DATABASE_URL=database_url, HORIZON_URI=f"http://{peer}", HORIZON_TIMEOUT_SECONDS=0.5
        )
        app = create_app(settings, engine=engine)
        keypair = Keypair.random()
        async with client_for(app) as client:
            xdr = (await client.get("/auth", params={"account": keypair.public_key})).json()
            started = time.monotonic()
            response = await client.post(
                "/auth", json={"transaction": sign(xdr["transaction"], keypair)}
            )
    assert response.status_code == 503 and "Horizon" in response.json()["error"]
    assert time.monotonic() - started < 5


async def test_a_silent_client_domain_is_a_400_within_its_timeout(database_url, engine) -> None:
    settings = make_settings(DATABASE_URL=database_url, SEP10_CLIENT_DOMAIN_TIMEOUT=0.5)
    app = create_app(settings, engine=engine)
    async with silent_peer() as peer, client_for(app) as client:
        started = time.monotonic()
        response = await client.get(
            "/auth", params={"account": Keypair.random().public_key, "client_domain": peer}
        )
    assert response.status_code == 400 and "could not fetch" in response.json()["error"]
    assert time.monotonic() - started < 5


async def test_a_trickling_client_domain_is_cut_at_its_timeout(database_url, engine) -> None:
    """One byte at a time resets a read timeout forever; the whole fetch has a deadline."""

    async def trickle(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\n")
        with contextlib.suppress(ConnectionError):
            for _ in range(100):
                writer.write(b"#")
                await writer.drain()
                await asyncio.sleep(0.1)
        writer.close()

    server = await asyncio.start_server(trickle, "127.0.0.1", 0)
    domain = f"127.0.0.1:{server.sockets[0].getsockname()[1]}"
    settings = make_settings(DATABASE_URL=database_url, SEP10_CLIENT_DOMAIN_TIMEOUT=0.5)
    app = create_app(settings, engine=engine)
    try:
        async with client_for(app) as client:
            started = time.monotonic()
            response = await client.get(
                "/auth", params={"account": Keypair.random().public_key, "client_domain": domain}
            )
    finally:
        server.close()
    assert response.status_code == 400
    assert time.monotonic() - started < 3


async def test_a_silent_callback_target_times_out() -> None:
    context = Context.build(make_settings(CALLBACK_TIMEOUT_SECONDS=0.5))
    loop = Callbacks(context, "worker-a")
    try:
        async with silent_peer() as peer:
            url = f"http://{peer}/callback"
            payload = {"transaction": {"id": "x", "status": "completed"}}
            delivery = Delivery(
                1, "transaction_status", "x", "completed", url, payload, utcnow(), 0
            )
            started = time.monotonic()
            outcome = await loop.deliver(delivery)
    finally:
        await loop.aclose()
        await context.engine.dispose()
    assert not outcome.delivered and outcome.error == "Timeout"
    assert time.monotonic() - started < 3
