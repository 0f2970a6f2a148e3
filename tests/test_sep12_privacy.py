"""KYC values stay out of logs and error bodies; a hook's mistake never reaches a wallet."""

from __future__ import annotations

import logging

import pytest

from killick.integrations import register_integrations
from tests.helpers import bearer
from tests.sep12_support import REQUIRED, MemoryCustomers, new_account

URL = "/kyc/customer"
SECRETS = {
    "first_name": "Zyxwvutsrq",
    "last_name": "Qponmlkjih",
    "email_address": "hidden-person@example.org",
    "tax_id": "987-65-4321",
    "birth_date": "1970-02-31",  # invalid on purpose: the error must not echo it
    "occupation": "secret-occupation",
}
PHOTO = b"PHOTO-BYTES-" + b"\x01" * 64


@pytest.fixture
def kyc() -> MemoryCustomers:
    integration = MemoryCustomers()
    register_integrations(customer=integration)
    return integration


def leaked(text: str) -> list[str]:
    values = [*SECRETS.values(), PHOTO.decode("latin-1"), "PHOTO-BYTES"]
    return [value for value in values if value in text]


async def test_no_kyc_value_in_logs_or_error_bodies(client, kyc, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    headers = bearer(new_account())
    bad = await client.put(URL, json=SECRETS, headers=headers)
    assert bad.status_code == 400
    assert "birth_date" in bad.json()["error"] and "occupation" in bad.json()["error"]
    good = {k: v for k, v in SECRETS.items() if k not in ("birth_date", "occupation")}
    created = await client.put(
        URL, data=good, files={"photo_id_front": ("p.jpg", PHOTO, "image/jpeg")}, headers=headers
    )
    assert created.status_code == 202
    await client.get(URL, headers=headers)
    misplaced = await client.put(
        URL,
        data={"first_name": SECRETS["first_name"]},
        files={"first_name_x": ("a", PHOTO, "image/png")},
        headers=headers,
    )
    assert misplaced.status_code == 400

    def exploding(token, request, params, *args, **kwargs):
        raise RuntimeError(f"database refused {params['first_name']} {params['tax_id']}")

    kyc.put = exploding
    failed = await client.put(URL, json=good, headers=headers)
    assert failed.status_code == 500
    assert failed.json() == {"error": "the anchor's KYC service failed to answer; try again later"}
    assert "customer integration put(): raised RuntimeError" in caplog.text
    assert leaked(caplog.text) == []
    assert leaked(bad.text + misplaced.text + failed.text) == []


def answering(body):
    def get(token, request, params, *args, **kwargs):
        return body

    return get


MISTAKES = [
    ("not a dict", ["ACCEPTED"]),
    ("unknown status", {"status": "APPROVED"}),
    ("needs info without fields", {"status": "NEEDS_INFO"}),
    ("rejected without message", {"status": "REJECTED"}),
    ("accepted with required fields", {"status": "ACCEPTED", "fields": REQUIRED}),
    (
        "field without description",
        {"status": "NEEDS_INFO", "fields": {"first_name": {"type": "string"}}},
    ),
    (
        "field of unknown type",
        {"status": "NEEDS_INFO", "fields": {"first_name": {"type": "text", "description": "x"}}},
    ),
    (
        "undeclared field name",
        {"status": "NEEDS_INFO", "fields": {"shoe_size": {"type": "number", "description": "x"}}},
    ),
    (
        "bad provided status",
        {
            "status": "PROCESSING",
            "provided_fields": {
                "first_name": {"type": "string", "description": "x", "status": "OK"}
            },
        },
    ),
    (
        "choices not a list",
        {
            "status": "NEEDS_INFO",
            "fields": {"sex": {"type": "string", "description": "x", "choices": "male"}},
        },
    ),
    ("id not a string", {"id": 7, "status": "PROCESSING"}),
]


@pytest.mark.parametrize(("mistake", "answer"), MISTAKES, ids=[m for m, _ in MISTAKES])
async def test_a_wrong_hook_answer_is_a_clean_500_and_logged(
    client, kyc, caplog, mistake, answer
) -> None:
    kyc.get = answering(answer)
    response = await client.get(URL, headers=bearer(new_account()))
    assert response.status_code == 500
    assert response.json() == {
        "error": "the anchor's KYC service failed to answer; try again later"
    }
    assert "customer integration get()" in caplog.text


async def test_hook_answers_are_cleaned_of_unknown_keys(client, kyc) -> None:
    kyc.get = answering(
        {
            "status": "NEEDS_INFO",
            "internal_score": 0.2,
            "fields": {"first_name": {"type": "string", "description": "Name", "value": "x"}},
        }
    )
    body = (await client.get(URL, headers=bearer(new_account()))).json()
    assert body == {
        "status": "NEEDS_INFO",
        "fields": {"first_name": {"type": "string", "description": "Name"}},
    }


async def test_get_for_another_principals_id_from_the_hook_is_refused(client, kyc) -> None:
    owner = bearer(new_account())
    customer_id = (await client.put(URL, json={"first_name": "A"}, headers=owner)).json()["id"]
    kyc.get = answering({"id": customer_id, "status": "ACCEPTED"})
    response = await client.get(URL, headers=bearer(new_account()))
    assert response.status_code == 500  # the hook matched the wrong customer: nothing leaks


async def test_unknown_customer_hook_raising_not_found_is_the_anchors_bug(client, kyc) -> None:
    from killick.integrations import CustomerNotFound

    def get(token, request, params, *args, **kwargs):
        raise CustomerNotFound("no")

    kyc.get = get
    response = await client.get(URL, headers=bearer(new_account()))
    assert response.status_code == 500  # never a 404 for a customer asked by account


async def test_an_anchor_without_sep12_answers_501(client) -> None:
    response = await client.get(URL, headers=bearer(new_account()))
    assert response.status_code == 501
    assert set(response.json()) == {"error"}
