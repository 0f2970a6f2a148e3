"""Customer status changes: the callback URL, outbox events, signatures, ACCEPTED listeners."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import select

from killick.errors import APIError
from killick.integrations import register_integrations
from killick.models import Event, KycCallback
from killick.sep12 import ACCEPTED_LISTENERS
from killick.sep12.callbacks import checked_url
from killick.signatures import sign_callback, verify_callback
from tests.helpers import SIGNING, bearer
from tests.sep12_support import MemoryCustomers, new_account

URL = "/kyc/customer"
HOOK_URL = "https://wallet.example.com/kyc-callback"


@pytest.fixture
def kyc() -> MemoryCustomers:
    integration = MemoryCustomers()
    register_integrations(customer=integration)
    return integration


@pytest.fixture
def accepted() -> list[str]:
    """Principals the ACCEPTED listeners heard about (the SEP-6 link, stood in for)."""
    heard: list[str] = []

    async def listener(session, principal: str) -> None:
        heard.append(principal)

    ACCEPTED_LISTENERS.append(listener)
    yield heard
    ACCEPTED_LISTENERS.remove(listener)


async def customer_events(sessions) -> list[Event]:
    async with sessions() as session:
        rows = await session.scalars(
            select(Event).where(Event.kind == "customer_status").order_by(Event.id)
        )
        return list(rows)


async def test_callback_needs_a_customer_and_a_url(client, kyc) -> None:
    headers = bearer(new_account())
    early = await client.put(f"{URL}/callback", json={"url": HOOK_URL}, headers=headers)
    assert early.status_code == 404
    await client.put(URL, json={"first_name": "Ada"}, headers=headers)
    no_url = await client.put(f"{URL}/callback", json={}, headers=headers)
    assert no_url.status_code == 400
    assert no_url.json()["error"].startswith("url")
    bad = await client.put(f"{URL}/callback", data={"url": "ftp://x/y"}, headers=headers)
    assert bad.status_code == 400
    ok = await client.put(f"{URL}/callback", data={"url": HOOK_URL}, headers=headers)
    assert ok.status_code == 200
    assert kyc.called("callback")[0]["url"] == HOOK_URL


def test_callback_urls_must_be_https_outside_local_mode() -> None:
    with pytest.raises(APIError):
        checked_url("http://wallet.example.com/cb", local_mode=False)
    with pytest.raises(APIError):
        checked_url("https://user:pw@wallet.example.com/cb", local_mode=False)
    with pytest.raises(APIError):
        checked_url("/relative", local_mode=True)
    assert checked_url("http://localhost:9000/cb", local_mode=True)
    assert checked_url(HOOK_URL, local_mode=False) == HOOK_URL


async def test_status_change_recorded_once_signed_and_listeners_run_once(
    client, kyc, sessions, accepted
) -> None:
    account = new_account()
    headers = bearer(account, memo="9")
    customer_id = (await client.put(URL, json={"first_name": "Ada"}, headers=headers)).json()["id"]
    first = await customer_events(sessions)
    assert [(e.from_status, e.to_status, e.callback_url) for e in first] == [
        (None, "NEEDS_INFO", None)
    ]
    assert first[0].next_attempt_at is None  # nowhere to deliver it

    await client.put(f"{URL}/callback", json={"url": HOOK_URL}, headers=headers)
    await client.put(URL, json={"id": customer_id, "last_name": "L"}, headers=headers)
    assert len(await customer_events(sessions)) == 1  # still NEEDS_INFO: no change

    await client.put(
        URL, json={"id": customer_id, "email_address": "a@example.com"}, headers=headers
    )
    for _ in range(3):
        body = (await client.get(URL, params={"id": customer_id}, headers=headers)).json()
    events = await customer_events(sessions)
    assert len(events) == 2
    change = events[1]
    assert (change.customer_id, change.from_status, change.to_status) == (
        customer_id,
        "NEEDS_INFO",
        "ACCEPTED",
    )
    assert change.callback_url == HOOK_URL
    assert change.next_attempt_at is not None and change.delivered_at is None
    assert change.payload == body  # the GET /customer body
    assert accepted == [f"{account}:9"]

    wire = json.dumps(change.payload).encode()
    header = sign_callback(SIGNING, change.callback_url, wire)
    assert verify_callback(SIGNING.public_key, HOOK_URL, wire, header)
    assert not verify_callback(SIGNING.public_key, "https://evil.example/x", wire, header)


async def test_the_callback_ends_after_a_final_status_and_can_be_set_again(
    client, kyc, sessions
) -> None:
    headers = bearer(new_account())
    customer_id = (await client.put(URL, json={"first_name": "Ada"}, headers=headers)).json()["id"]
    await client.put(f"{URL}/callback", json={"url": HOOK_URL}, headers=headers)
    await client.put(f"{URL}/callback", json={"url": HOOK_URL + "/v2"}, headers=headers)
    kyc.status[customer_id] = {"status": "REJECTED", "message": "on a sanctions list"}
    await client.get(URL, headers=headers)
    kyc.status[customer_id] = {"status": "PROCESSING"}
    await client.get(URL, headers=headers)

    events = await customer_events(sessions)
    assert [(e.to_status, e.callback_url) for e in events] == [
        ("NEEDS_INFO", None),
        ("REJECTED", HOOK_URL + "/v2"),  # the newer URL replaced the first
        ("PROCESSING", None),  # SEP-12: no more callbacks after REJECTED/ACCEPTED
    ]
    async with sessions() as session:
        assert await session.scalar(select(KycCallback)) is None

    await client.put(f"{URL}/callback", json={"url": HOOK_URL}, headers=headers)
    kyc.status[customer_id] = {"status": "ACCEPTED"}
    await client.get(URL, headers=headers)
    assert (await customer_events(sessions))[-1].callback_url == HOOK_URL


async def test_statuses_are_kept_per_type(client, kyc, sessions, accepted) -> None:
    headers = bearer(new_account())
    customer_id = (
        await client.put(
            URL,
            json={"first_name": "A", "last_name": "B", "email_address": "c@example.com"},
            headers=headers,
        )
    ).json()["id"]
    await client.get(URL, params={"type": "sep6"}, headers=headers)
    await client.get(URL, params={"type": "sep31-sender"}, headers=headers)
    await client.get(URL, params={"type": "sep6"}, headers=headers)
    events = await customer_events(sessions)
    assert [(e.customer_id, e.to_status, e.reason) for e in events] == [
        (customer_id, "ACCEPTED", None),
        (customer_id, "ACCEPTED", "SEP-12 type sep6"),
        (customer_id, "ACCEPTED", "SEP-12 type sep31-sender"),
    ]
    assert len(accepted) == 3  # once per type that became ACCEPTED


async def test_concurrent_requests_record_one_change_once(client, kyc, sessions) -> None:
    headers = bearer(new_account())
    customer_id = (await client.put(URL, json={"first_name": "Ada"}, headers=headers)).json()["id"]
    kyc.status[customer_id] = {"status": "PROCESSING"}
    answers = await asyncio.gather(*(client.get(URL, headers=headers) for _ in range(8)))
    assert {a.status_code for a in answers} == {200}
    assert [e.to_status for e in await customer_events(sessions)] == [
        "NEEDS_INFO",
        "PROCESSING",
    ]


async def test_a_failing_listener_rolls_the_change_back_so_it_is_retried(
    client, kyc, sessions, caplog
) -> None:
    headers = bearer(new_account())
    customer_id = (await client.put(URL, json={"first_name": "Ada"}, headers=headers)).json()["id"]
    calls: list[str] = []
    reason = "SEP-6 is down"

    async def flaky(session, principal: str) -> None:
        calls.append(principal)
        if len(calls) == 1:
            raise RuntimeError(reason)

    ACCEPTED_LISTENERS.append(flaky)
    try:
        kyc.status[customer_id] = {"status": "ACCEPTED"}
        failed = await client.get(URL, headers=headers)
        assert failed.status_code == 200  # the wallet still hears the status
        assert failed.json()["status"] == "ACCEPTED"
        assert [e.to_status for e in await customer_events(sessions)] == ["NEEDS_INFO"]
        retried = await client.get(URL, headers=headers)
        assert retried.status_code == 200
    finally:
        ACCEPTED_LISTENERS.remove(flaky)
    assert [e.to_status for e in await customer_events(sessions)] == ["NEEDS_INFO", "ACCEPTED"]
    assert len(calls) == 2
    assert "status change not recorded (RuntimeError)" in caplog.text
    assert reason not in caplog.text  # exception messages stay out of the log
