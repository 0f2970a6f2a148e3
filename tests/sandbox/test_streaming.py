"""Payment streams through stellar-sdk: cursors, restarts, joins, and the sync client."""

from __future__ import annotations

import asyncio

from stellar_sdk import Asset, Server, ServerAsync, TextMemo
from stellar_sdk.operation import Payment

from killick.sandbox import SandboxNetwork, running_sandbox
from killick.stellar import HttpxAsyncClient

TIMEOUT = 5


async def next_record(stream) -> dict:
    return await asyncio.wait_for(stream.__anext__(), TIMEOUT)


async def latest_payment_token(chain, account_id: str) -> str:
    page = await chain.server.payments().for_account(account_id).order(desc=True).limit(1).call()
    return page["_embedded"]["records"][0]["paging_token"]


async def pay(chain, source, destination, memo: str) -> None:
    await chain.submit(
        source, [Payment(destination.public_key, Asset.native(), "1")], memo=TextMemo(memo)
    )


async def test_stream_resumes_from_cursor_without_loss_or_duplicates(chain):
    alice, bob = await chain.fund(2)
    cursor = await latest_payment_token(chain, bob.public_key)

    def open_stream(from_cursor: str):
        return (
            chain.server.payments()
            .for_account(bob.public_key)
            .cursor(from_cursor)
            .join("transactions")
            .stream()
        )

    seen = []
    stream = open_stream(cursor)
    await pay(chain, alice, bob, "m0")
    await pay(chain, alice, bob, "m1")
    seen += [await next_record(stream), await next_record(stream)]
    await stream.aclose()

    # Payments that land while nobody listens are delivered after the restart.
    await pay(chain, alice, bob, "m2")
    await pay(chain, alice, bob, "m3")
    stream = open_stream(seen[-1]["paging_token"])
    seen += [await next_record(stream), await next_record(stream)]
    # And the restarted stream keeps following new ledgers.
    await pay(chain, alice, bob, "m4")
    seen.append(await next_record(stream))
    await stream.aclose()

    assert [r["transaction"]["memo"] for r in seen] == ["m0", "m1", "m2", "m3", "m4"]
    assert len({r["id"] for r in seen}) == 5
    tokens = [int(r["paging_token"]) for r in seen]
    assert tokens == sorted(tokens) and tokens[0] > int(cursor)
    assert all(r["to"] == bob.public_key and r["amount"] == "1.0000000" for r in seen)


async def test_stream_from_now_only_sends_new_records(chain):
    alice, bob = await chain.fund(2)
    await pay(chain, alice, bob, "old")
    stream = chain.server.payments().for_account(bob.public_key).cursor("now").stream()
    waiting = asyncio.ensure_future(next_record(stream))
    for _ in range(TIMEOUT * 100):  # wait until the stream is connected and "now" is fixed
        if chain.network.open_streams:
            break
        await asyncio.sleep(0.01)
    await pay(chain, alice, bob, "new")
    record = await waiting
    tx = await chain.server.transactions().transaction(record["transaction_hash"]).call()
    assert tx["memo"] == "new"
    await stream.aclose()


async def test_transactions_stream_from_start(chain):
    (alice,) = await chain.fund()
    stream = chain.server.transactions().for_account(alice.public_key).stream()
    record = await next_record(stream)
    assert record["operation_count"] == 1  # friendbot's create_account
    await stream.aclose()


async def test_stellar_sdk_sync_client_streams_too(chain):
    """SDF tooling uses the requests-based client; its stream must parse our SSE."""
    alice, bob = await chain.fund(2)
    cursor = await latest_payment_token(chain, bob.public_key)
    await pay(chain, alice, bob, "sync")

    def first_payment() -> dict:
        with Server(chain.url) as server:
            stream = server.payments().for_account(bob.public_key).cursor(cursor).stream()
            try:
                return next(stream)
            finally:
                stream.close()

    record = await asyncio.wait_for(asyncio.to_thread(first_payment), TIMEOUT)
    assert record["type"] == "payment" and record["to"] == bob.public_key


async def test_quiet_stream_stays_open_thanks_to_keepalives():
    """A client whose read timeout is shorter than the gap between records keeps its stream."""
    network = SandboxNetwork(ledger_seconds=3600, keepalive_seconds=0.2)
    async with (
        running_sandbox(network=network) as (network, url),
        HttpxAsyncClient(stream_read_timeout=0.6) as client,
    ):
        server = ServerAsync(url, client=client)
        stream = server.ledgers().cursor("now").stream()
        waiting = asyncio.ensure_future(next_record(stream))
        await asyncio.sleep(1.5)  # no ledger closes meanwhile: nothing to send
        assert not waiting.done()  # still connected after 1.5 s > read timeout
        await network.close_ledger()
        record = await waiting
        assert record["sequence"] == network.latest_ledger.sequence
        await stream.aclose()
