"""/customer/files, file ids in PUT /customer, and the upload size limits (413)."""

from __future__ import annotations

import pytest

from killick.integrations import register_integrations
from tests.helpers import bearer, make_settings
from tests.sep12_support import MemoryCustomers, new_account

URL = "/kyc/customer"
UPLOAD_LIMIT = 4096
BODY_LIMIT = 3 * UPLOAD_LIMIT


@pytest.fixture
def settings(database_url):
    return make_settings(
        DATABASE_URL=database_url,
        SEP12_MAX_UPLOAD_BYTES=UPLOAD_LIMIT,
        SEP12_MAX_BODY_BYTES=BODY_LIMIT,
    )


@pytest.fixture
def kyc() -> MemoryCustomers:
    integration = MemoryCustomers()
    register_integrations(customer=integration)
    return integration


async def upload(client, headers, data=b"\x89PNG" + b"x" * 100, **form):
    return await client.post(
        f"{URL}/files", data=form, files={"file": ("id.png", data, "image/png")}, headers=headers
    )


async def test_upload_then_list_by_file_and_by_customer(client, kyc) -> None:
    headers = bearer(new_account())
    before = await upload(client, headers)
    assert before.status_code == 200
    assert before.json()["customer_id"] is None
    assert before.json()["size"] == 104 and before.json()["content_type"] == "image/png"

    customer_id = (await client.put(URL, json={"first_name": "A"}, headers=headers)).json()["id"]
    after = (await upload(client, headers)).json()
    assert after["customer_id"] == customer_id  # the caller's customer, inferred

    listed = await client.get(f"{URL}/files", params={"file_id": after["file_id"]}, headers=headers)
    assert listed.status_code == 200
    assert listed.json() == {"files": [after]}
    by_customer = await client.get(
        f"{URL}/files", params={"customer_id": customer_id}, headers=headers
    )
    assert by_customer.json() == {"files": [after]}


async def test_other_wallets_and_unknown_ids_get_an_empty_list(client, kyc) -> None:
    headers = bearer(new_account())
    customer_id = (await client.put(URL, json={"first_name": "A"}, headers=headers)).json()["id"]
    file_id = (await upload(client, headers)).json()["file_id"]
    stranger = bearer(new_account())
    for params in ({"file_id": file_id}, {"customer_id": customer_id}, {"file_id": "nope"}):
        response = await client.get(f"{URL}/files", params=params, headers=stranger)
        assert (response.status_code, response.json()) == (200, {"files": []})
    assert kyc.called("get_files") == []
    missing = await client.get(f"{URL}/files", headers=headers)
    assert missing.status_code == 400
    unauthenticated = await client.get(f"{URL}/files", params={"file_id": file_id})
    assert unauthenticated.status_code == 401


async def test_post_files_needs_one_file_part_named_file(client, kyc) -> None:
    headers = bearer(new_account())
    as_json = await client.post(f"{URL}/files", json={"file": "aGk="}, headers=headers)
    assert as_json.status_code == 400
    wrong_name = await client.post(
        f"{URL}/files", files={"photo": ("a.png", b"x", "image/png")}, headers=headers
    )
    assert wrong_name.status_code == 400
    assert kyc.called("post_file") == []


async def test_put_customer_refers_to_own_uploaded_files_only(client, kyc) -> None:
    headers = bearer(new_account())
    file_id = (await upload(client, headers)).json()["file_id"]
    mine = await client.put(URL, json={"photo_id_front_file_id": file_id}, headers=headers)
    assert mine.status_code == 202
    assert kyc.called("put")[0]["photo_id_front_file_id"] == file_id

    stranger = bearer(new_account())
    theirs = await client.put(URL, json={"photo_id_back_file_id": file_id}, headers=stranger)
    assert theirs.status_code == 400
    assert "photo_id_back_file_id" in theirs.json()["error"]
    assert len(kyc.called("put")) == 1


async def test_a_file_over_the_limit_is_413_and_nothing_is_stored(client, kyc) -> None:
    headers = bearer(new_account())
    big = b"x" * (UPLOAD_LIMIT + 1)
    response = await client.put(
        URL,
        data={"first_name": "A"},
        files={"photo_id_front": ("big.jpg", big, "image/jpeg")},
        headers=headers,
    )
    assert response.status_code == 413
    assert "photo_id_front" in response.json()["error"]
    assert str(UPLOAD_LIMIT) in response.json()["error"]
    assert (await upload(client, headers, data=big)).status_code == 413
    assert kyc.called("put") == [] and kyc.called("post_file") == []
    fits = await upload(client, headers, data=b"x" * UPLOAD_LIMIT)
    assert fits.status_code == 200


async def test_a_body_over_the_limit_is_413_even_without_content_length(client, kyc) -> None:
    headers = bearer(new_account())
    files = {
        name: ("f.jpg", b"x" * UPLOAD_LIMIT, "image/jpeg")
        for name in ("photo_id_front", "photo_id_back", "proof_of_income", "proof_of_liveness")
    }
    declared = await client.put(URL, files=files, headers=headers)
    assert declared.status_code == 413
    assert "request body" in declared.json()["error"]

    async def chunks():
        for _ in range(BODY_LIMIT // 1024 + 2):
            yield b'{"first_name": "' + b"a" * 1024

    streamed = await client.put(
        URL, content=chunks(), headers={**headers, "Content-Type": "application/json"}
    )
    assert streamed.status_code == 413
    assert kyc.called("put") == []
