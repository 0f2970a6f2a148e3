"""How fast the sandbox applies payments and streams them (127.0.0.1 only, bounded in time).

    python bench/sandbox_bench.py                 # defaults: ~30 s on a 2-core machine
    python bench/sandbox_bench.py --envelopes 50 --stream-events 5000

It starts `killick sandbox` in a subprocess (so the client's signing and parsing do not
share the server's interpreter), funds accounts, and measures:

* submission: 100-payment envelopes accepted per second through POST /transactions_async
  (decoding, signature and sequence checks, queueing);
* apply: payment operations applied per second by a ledger close (POST /_sandbox/close on a
  ledger holding every queued envelope), i.e. how many payments fit in a 1-second ledger;
* streaming: payment events per second an SSE client receives from /payments, replaying
  history from cursor 0, and the delay from a close to its first live event.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import sys
import time
from collections.abc import AsyncIterator

import httpx
from stellar_sdk import Account, Asset, Keypair, Network, TransactionBuilder
from stellar_sdk.operation import CreateAccount, Payment

HOST = "127.0.0.1"
PASSPHRASE = Network.TESTNET_NETWORK_PASSPHRASE
OPS_PER_ENVELOPE = 100


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@contextlib.asynccontextmanager
async def sandbox_process() -> AsyncIterator[str]:
    """`killick sandbox` on a free loopback port; ledgers close only when asked."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "killick",
        "sandbox",
        "--host",
        HOST,
        "--port",
        str(port),
        "--ledger-seconds",
        "3600",
        "--max-ops-per-ledger",
        "100000",
    ]
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    url = f"http://{HOST}:{port}"
    try:
        async with httpx.AsyncClient(timeout=2) as client:
            for _ in range(200):
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get(url)).status_code == 200:
                        break
                await asyncio.sleep(0.05)
            else:
                raise RuntimeError("sandbox did not start")
        yield url
    finally:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 5)
        except TimeoutError:
            process.kill()
            await process.wait()


async def close(client: httpx.AsyncClient) -> tuple[float, dict]:
    start = time.perf_counter()
    response = await client.post("/_sandbox/close")
    return time.perf_counter() - start, response.json()["ledger"]


async def submit_and_close(client: httpx.AsyncClient, envelopes: list[str]) -> None:
    answers = await asyncio.gather(
        *(client.post("/transactions_async", data={"tx": e}) for e in envelopes)
    )
    bad = [a.text for a in answers if a.status_code != 201]
    if bad:
        raise RuntimeError(f"submission refused: {bad[0]}")
    await close(client)


async def fund(client: httpx.AsyncClient, keys: list[Keypair]) -> None:
    """Friendbot waits for a ledger; close ledgers until every request is answered."""
    tasks = [
        asyncio.create_task(client.get("/friendbot", params={"addr": k.public_key})) for k in keys
    ]
    while not all(t.done() for t in tasks):
        await asyncio.sleep(0.05)
        await close(client)
    for task in tasks:
        if task.result().status_code != 200:
            raise RuntimeError(task.result().text)


def envelope(source: Keypair, sequence: int, ops: list) -> str:
    builder = TransactionBuilder(Account(source.public_key, sequence), PASSPHRASE, base_fee=100)
    for op in ops:
        builder.append_operation(op)
    tx = builder.set_timeout(600).build()
    tx.sign(source)
    return tx.to_xdr()


async def sequence_of(client: httpx.AsyncClient, key: Keypair) -> int:
    return int((await client.get(f"/accounts/{key.public_key}")).json()["sequence"])


async def measure(url: str, envelopes_per_round: int, rounds: int, stream_events: int) -> dict:
    results: dict = {"cpu_count": os.cpu_count(), "ops_per_envelope": OPS_PER_ENVELOPE}
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        sources = [Keypair.random() for _ in range(envelopes_per_round)]
        funder = Keypair.random()
        await fund(client, [funder, *sources])
        destinations = [Keypair.random() for _ in range(OPS_PER_ENVELOPE)]
        seq = await sequence_of(client, funder)
        ops = [CreateAccount(d.public_key, "10") for d in destinations]
        await submit_and_close(client, [envelope(funder, seq, ops)])

        sequences = {s.public_key: await sequence_of(client, s) for s in sources}
        submit_rates, apply_rates, close_times = [], [], []
        for _ in range(rounds):
            batch = []
            for source in sources:
                payments = [
                    Payment(d.public_key, Asset.native(), "0.0000001") for d in destinations
                ]
                batch.append(envelope(source, sequences[source.public_key], payments))
                sequences[source.public_key] += 1
            start = time.perf_counter()
            answers = await asyncio.gather(
                *(client.post("/transactions_async", data={"tx": e}) for e in batch)
            )
            submit_seconds = time.perf_counter() - start
            assert all(a.status_code == 201 for a in answers), answers[0].text
            seconds, ledger = await close(client)
            assert ledger["operation_count"] == len(batch) * OPS_PER_ENVELOPE, ledger
            submit_rates.append(len(batch) / submit_seconds)
            apply_rates.append(ledger["operation_count"] / seconds)
            close_times.append(seconds)
        results["envelopes_per_ledger"] = envelopes_per_round
        results["submit_envelopes_per_second"] = round(min(submit_rates), 1)
        results["apply_payment_ops_per_second"] = round(min(apply_rates))
        results["close_seconds_for_ledger"] = round(max(close_times), 3)
        results["close_seconds_per_100_op_envelope"] = round(
            max(close_times) / envelopes_per_round, 4
        )
        history = rounds * len(sources) * OPS_PER_ENVELOPE
        results["stream"] = await stream(client, min(stream_events, history))
        live = []
        for source in sources:
            payments = [Payment(d.public_key, Asset.native(), "0.0000001") for d in destinations]
            live.append(envelope(source, sequences[source.public_key], payments))
            sequences[source.public_key] += 1
        results["stream"].update(await live_stream(client, live))
    return results


async def stream(client: httpx.AsyncClient, wanted: int) -> dict:
    """Replay /payments from the start over SSE, then time one live event."""
    received = 0
    start = time.perf_counter()
    headers = {"Accept": "text/event-stream"}
    async with client.stream("GET", "/payments", params={"cursor": "0"}, headers=headers) as sse:
        lines = sse.aiter_lines()
        async for line in lines:
            if line.startswith("data: {"):
                received += 1
                if received >= wanted:
                    break
        replay_seconds = time.perf_counter() - start
    return {
        "events": received,
        "replay_events_per_second": round(received / replay_seconds),
    }


async def live_stream(client: httpx.AsyncClient, batch: list[str]) -> dict:
    """Follow /payments from `now`, close a ledger of `batch`, time until all events arrive."""
    wanted = len(batch) * OPS_PER_ENVELOPE
    headers = {"Accept": "text/event-stream"}
    received = 0
    async with client.stream("GET", "/payments", params={"cursor": "now"}, headers=headers) as sse:
        lines = sse.aiter_lines()
        async for line in lines:  # wait for the stream's hello before producing events
            if line.startswith("data:"):
                break
        answers = await asyncio.gather(
            *(client.post("/transactions_async", data={"tx": e}) for e in batch)
        )
        assert all(a.status_code == 201 for a in answers), answers[0].text
        start = time.perf_counter()
        closing = asyncio.create_task(client.post("/_sandbox/close"))
        async for line in lines:
            if line.startswith("data: {"):
                received += 1
                if received >= wanted:
                    break
        seconds = time.perf_counter() - start
        await closing
    return {
        "live_events": received,
        "live_seconds_from_close_to_last_event": round(seconds, 3),
        "live_events_per_second": round(received / seconds),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--envelopes", type=int, default=20, help="100-op envelopes per ledger")
    parser.add_argument("--rounds", type=int, default=3, help="ledgers to measure")
    parser.add_argument("--stream-events", type=int, default=5000)
    parser.add_argument("--timeout", type=float, default=240, help="give up after (s)")
    args = parser.parse_args()
    async with sandbox_process() as url:
        results = await asyncio.wait_for(
            measure(url, args.envelopes, args.rounds, args.stream_events), args.timeout
        )
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
