"""The callbacks loop: a wallet on 127.0.0.1 gets every change, in order, signed, whatever
its outages; customer events the same way; give-up after the max age; SSRF targets refused."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import uvicorn
from sqlalchemy import select
from stellar_sdk import Keypair

import killick.signatures
from killick.columns import utcnow
from killick.context import Context
from killick.models import Asset, Event, KycCustomer, Transaction
from killick.sep12.callbacks import set_callback
from killick.sep12.status import record_status
from killick.signatures import verify_callback
from killick.transactions import transition
from killick.workers.backoff import backoff
from killick.workers.callbacks import Callbacks, Delivery
from tests.helpers import SIGNING, make_settings

FAST = {
    "CALLBACK_BACKOFF_BASE_SECONDS": 1,
    "CALLBACK_BACKOFF_CAP_SECONDS": 8,
    "CALLBACK_TIMEOUT_SECONDS": 2,
}
PUBLIC = {"LOCAL_MODE": False, "HOST_URL": "https://anchor.example", "HORIZON_URI": "https://h.x"}


class Clock:
    """The loop's idea of now: real time, moved forward by the test instead of sleeping."""

    def __init__(self) -> None:
        self.offset = timedelta()

    @property
    def now(self) -> datetime:
        return utcnow() + self.offset

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


class Wallet:
    """A wallet's callback endpoint: records each POST, answers ``status``."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, str], bytes]] = []
        self.status = 200

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.received.append((scope["path"], headers, body))
        await send({"type": "http.response.start", "status": self.status, "headers": []})
        await send({"type": "http.response.body", "body": b"wallet-secret-body"})

    def statuses(self, path: str = "/cb") -> list[str]:
        bodies = [body for p, _, body in self.received if p == path]
        return [json.loads(body)["transaction"]["status"] for body in bodies]


def bound_socket() -> socket.socket:
    """A loopback port that refuses connections until something listens on it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextlib.asynccontextmanager
async def listening(sock: socket.socket, app: Any) -> AsyncIterator[None]:
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        yield
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await task


@contextlib.asynccontextmanager
async def wallet_server(wallet: Wallet) -> AsyncIterator[str]:
    sock = bound_socket()
    async with listening(sock, wallet):
        yield f"127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


def context_for(database_url: str, engine: Any, **settings: Any) -> Context:
    return Context.build(make_settings(DATABASE_URL=database_url, **settings), engine)


async def new_asset(context: Context) -> int:
    async with context.sessions() as session:
        asset = Asset(code="USD", issuer=Keypair.random().public_key, significant_decimals=2)
        session.add(asset)
        await session.commit()
        return asset.id


async def walk(context: Context, asset_id: int, url: str | None, statuses: list[str]) -> str:
    """A deposit created and moved through ``statuses``, one outbox event per change."""
    async with context.sessions() as session:
        account = Keypair.random().public_key
        txn = Transaction(
            kind="deposit",
            asset=await session.get(Asset, asset_id),
            principal=account,
            stellar_account=account,
            on_change_callback=url,
        )
        session.add(txn)
        for status in statuses:
            transition(session, txn, status)
            await session.flush()
        await session.commit()
        return txn.id


async def events_of(context: Context, **where: Any) -> list[Event]:
    async with context.sessions() as session:
        query = select(Event).filter_by(**where).order_by(Event.id)
        return list((await session.scalars(query)).all())


async def drain(loop: Callbacks, clock: Clock | None = None, rounds: int = 30) -> None:
    """Run passes until nothing is due, moving the clock over any backoff."""
    for _ in range(rounds):
        if await loop.run_once() == 0:
            if clock is None:
                return
            clock.advance(3600)
            if await loop.run_once() == 0:
                return
    raise AssertionError("the callbacks loop did not settle")


def assert_signed(received: list[tuple[str, dict[str, str], bytes]], base: str) -> None:
    for path, headers, body in received:
        url = f"http://{base}{path}"
        assert verify_callback(SIGNING.public_key, url, body, headers["signature"]), headers
        assert headers["content-type"] == "application/json"


DEPOSIT_PATH = [
    "pending_user_transfer_start",
    "pending_external",
    "pending_anchor",
    "pending_stellar",
    "completed",
]


async def test_every_change_arrives_in_order_signed_even_after_an_outage(
    database_url, engine, monkeypatch
) -> None:
    context = context_for(database_url, engine, **FAST)
    clock = Clock()
    loop = Callbacks(context, "worker-a", clock=clock)
    wallet = Wallet()
    sock = bound_socket()  # bound, not listening: connections are refused
    base = f"127.0.0.1:{sock.getsockname()[1]}"
    try:
        asset_id = await new_asset(context)
        txn_id = await walk(context, asset_id, f"http://{base}/cb", DEPOSIT_PATH)

        # Down: only the first event is tried; the later ones wait behind it.
        assert await loop.run_once() == 1
        first, *later = await events_of(context, transaction_id=txn_id)
        assert (first.attempts, first.last_error, first.delivered_at) == (1, "ConnectError", None)
        assert first.next_attempt_at > clock.now
        assert all(e.attempts == 0 for e in later)
        assert await loop.run_once() == 0  # backing off: nothing due

        async with listening(sock, wallet):
            wallet.status = 503
            clock.advance(3600)
            assert await loop.run_once() == 1
            first = (await events_of(context, transaction_id=txn_id))[0]
            assert (first.attempts, first.last_error) == (2, "HTTP 503")
            assert "wallet-secret-body" not in str(first.last_error)

            # Up again, minutes later: every change arrives, in order, signed at sending.
            wallet.status = 200
            later_time = killick.signatures.time.time() + 300
            monkeypatch.setattr(killick.signatures.time, "time", lambda: later_time)
            await drain(loop, clock)
    finally:
        await loop.aclose()
        sock.close()

    delivered = wallet.received[1:]  # the first was the 503
    assert [json.loads(b)["transaction"]["status"] for _, _, b in delivered] == DEPOSIT_PATH
    assert_signed(delivered, base)
    assert all(h["signature"].startswith(f"t={int(later_time)},") for _, h, _ in delivered)
    events = await events_of(context, transaction_id=txn_id)
    for event, (_, _, body) in zip(events, delivered, strict=True):
        assert json.loads(body) == event.payload  # the same JSON as GET /transaction
        assert event.delivered_at is not None and event.claimed_by is None
    assert [e.attempts for e in events] == [3, 1, 1, 1, 1]


async def test_one_wallet_down_does_not_hold_back_another(database_url, engine) -> None:
    context = context_for(database_url, engine, **FAST)
    clock = Clock()
    loop = Callbacks(context, "worker-a", clock=clock)
    wallet = Wallet()
    dead = bound_socket()
    try:
        async with wallet_server(wallet) as base:
            asset_id = await new_asset(context)
            down = await walk(
                context, asset_id, f"http://127.0.0.1:{dead.getsockname()[1]}/cb", DEPOSIT_PATH
            )
            up = await walk(context, asset_id, f"http://{base}/cb", DEPOSIT_PATH)
            for _ in range(len(DEPOSIT_PATH)):
                await loop.run_once()
    finally:
        await loop.aclose()
        dead.close()
    assert wallet.statuses() == DEPOSIT_PATH
    assert all(e.delivered_at for e in await events_of(context, transaction_id=up))
    waiting = await events_of(context, transaction_id=down)
    assert [e.attempts for e in waiting] == [1, 0, 0, 0, 0]


async def test_customer_status_events_are_delivered_the_same_way(database_url, engine) -> None:
    context = context_for(database_url, engine, **FAST)
    loop = Callbacks(context, "worker-a")
    wallet = Wallet()
    principal = Keypair.random().public_key
    try:
        async with wallet_server(wallet) as base:
            async with context.sessions() as session:
                session.add(KycCustomer(id="cust-1", principal=principal))
                await set_callback(session, principal, f"http://{base}/kyc")
                await session.flush()
                for status in ("NEEDS_INFO", "PROCESSING", "ACCEPTED"):
                    body = {"id": "cust-1", "status": status}
                    await record_status(
                        session,
                        principal=principal,
                        customer_id="cust-1",
                        customer_type=None,
                        body=body,
                    )
                await session.commit()
            await drain(loop)
    finally:
        await loop.aclose()
    assert [json.loads(b) for _, _, b in wallet.received] == [
        {"id": "cust-1", "status": s} for s in ("NEEDS_INFO", "PROCESSING", "ACCEPTED")
    ]
    assert_signed(wallet.received, base)
    events = await events_of(context, kind="customer_status")
    assert all(e.delivered_at is not None for e in events)


async def test_gives_up_after_the_max_age_and_says_so(database_url, engine, caplog) -> None:
    context = context_for(database_url, engine, **FAST, CALLBACK_MAX_AGE_SECONDS=3600)
    clock = Clock()
    loop = Callbacks(context, "worker-a", clock=clock)
    wallet = Wallet()
    wallet.status = 500
    caplog.set_level(logging.INFO, logger="killick.workers.callbacks")
    try:
        async with wallet_server(wallet) as base:
            asset_id = await new_asset(context)
            txn_id = await walk(context, asset_id, f"http://{base}/cb", DEPOSIT_PATH[:2])
            assert await loop.run_once() == 1
            clock.advance(1800)
            assert await loop.run_once() == 1
            clock.advance(1801)  # past the max age: this failure is the last
            assert await loop.run_once() == 1
            first = (await events_of(context, transaction_id=txn_id))[0]
            assert (first.attempts, first.last_error) == (3, "HTTP 500")
            assert first.next_attempt_at is None and first.delivered_at is None
            # Given up, it no longer holds back the next event of its transaction.
            assert await loop.run_once() == 1
            second = (await events_of(context, transaction_id=txn_id))[1]
            assert second.attempts == 1
    finally:
        await loop.aclose()
    assert len(wallet.received) == 4
    gave_up = [r.getMessage() for r in caplog.records if "gave up" in r.getMessage()]
    assert gave_up and txn_id in gave_up[0] and f"event {first.id}" in gave_up[0]


async def test_unsafe_targets_are_refused_outside_local_mode(
    database_url, engine, monkeypatch
) -> None:
    import killick.callback_targets as targets

    context = context_for(database_url, engine, **FAST, **PUBLIC)
    loop = Callbacks(context, "worker-a")
    wallet = Wallet()
    real_resolve = targets.resolve

    async def resolve(host: str, port: int) -> list[str]:
        if host == "mixed.example":  # one public address is not enough
            return ["93.184.216.34", "10.0.0.8"]
        return await real_resolve(host, port)

    monkeypatch.setattr(targets, "resolve", resolve)
    try:
        async with wallet_server(wallet) as base:
            port = base.split(":")[1]
            urls = {
                f"https://127.0.0.1:{port}/cb": "127.0.0.1, a loopback address",
                f"https://localhost:{port}/cb": "a loopback address",
                f"http://{base}/cb": "not an absolute https URL",
                "https://[::ffff:169.254.169.254]/latest": "a link-local address",
                "https://10.1.2.3/cb": "a private address",
                "https://224.0.0.1/cb": "a multicast address",
                "https://mixed.example/cb": "10.0.0.8, a private address",
            }
            asset_id = await new_asset(context)
            ids = {url: await walk(context, asset_id, url, DEPOSIT_PATH[:1]) for url in urls}
            assert await loop.run_once() == len(urls)
            assert await loop.run_once() == 0  # permanent: never tried again
    finally:
        await loop.aclose()
    assert wallet.received == []
    for url, reason in urls.items():
        (event,) = await events_of(context, transaction_id=ids[url])
        assert event.last_error.startswith("refused: ") and reason in event.last_error, url
        assert event.next_attempt_at is None and event.delivered_at is None


async def test_a_public_target_is_called_at_the_address_that_was_checked(monkeypatch) -> None:
    """No DNS rebinding: the connection goes to the checked address, with the wallet's
    host name as Host header and TLS server name, and the signature names that host."""
    import killick.callback_targets as targets

    async def resolve(host: str, port: int) -> list[str]:
        assert (host, port) == ("wallet.example", 8443)
        return ["93.184.216.34"]

    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    monkeypatch.setattr(targets, "resolve", resolve)
    context = Context.build(make_settings(**PUBLIC))
    loop = Callbacks(context, "worker-a", transport=httpx.MockTransport(handler))
    url = "https://wallet.example:8443/hooks/cb?wallet=1"
    payload = {"transaction": {"id": "x", "status": "completed"}}
    delivery = Delivery(1, "transaction_status", "x", "completed", url, payload, utcnow(), 0)
    try:
        outcome = await loop.deliver(delivery)
    finally:
        await loop.aclose()
        await context.engine.dispose()
    assert outcome.delivered
    (request,) = seen
    assert str(request.url) == "https://93.184.216.34:8443/hooks/cb?wallet=1"
    assert request.headers["host"] == "wallet.example:8443"
    assert request.extensions["sni_hostname"] == "wallet.example"
    assert json.loads(request.content) == payload
    assert verify_callback(SIGNING.public_key, url, request.content, request.headers["signature"])


async def test_two_workers_never_deliver_the_same_event(database_url, engine) -> None:
    context = context_for(database_url, engine, **FAST, CALLBACK_CONCURRENCY=3)
    wallet = Wallet()
    loops = [Callbacks(context, f"worker-{n}") for n in "ab"]
    try:
        async with wallet_server(wallet) as base:
            asset_id = await new_asset(context)
            ids = [
                await walk(context, asset_id, f"http://{base}/cb", DEPOSIT_PATH[:3])
                for _ in range(12)
            ]
            for _ in range(10):
                done = await asyncio.gather(*(loop.run_once() for loop in loops))
                if sum(done) == 0:
                    break
    finally:
        for loop in loops:
            await loop.aclose()
    seen = [json.loads(b)["transaction"] for _, _, b in wallet.received]
    pairs = [(t["id"], t["status"]) for t in seen]
    assert sorted(pairs) == sorted((i, s) for i in ids for s in DEPOSIT_PATH[:3])
    for txn_id in ids:  # and each transaction's in order
        assert [s for i, s in pairs if i == txn_id] == DEPOSIT_PATH[:3]


def test_backoff_grows_to_its_cap_with_jitter() -> None:
    delays = [backoff(n, 5, 3600) for n in range(1, 16)]
    assert 2.5 <= delays[0] <= 5
    assert 40 <= delays[4] <= 80
    assert all(1800 <= d <= 3600 for d in delays[-5:])
    assert len({backoff(3, 5, 3600) for _ in range(20)}) > 1
