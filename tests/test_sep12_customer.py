"""SEP-12 /customer through the app: encodings, status flow, authorization, bad input."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from stellar_sdk import Keypair, MuxedAccount

from killick.integrations import register_integrations
from killick.models import Asset, Transaction
from killick.sep10.token import SEP10Token
from killick.sep12 import UploadedFile
from tests.helpers import bearer
from tests.sep12_support import VERIFICATION_CODE, MemoryCustomers, new_account

URL = "/kyc/customer"


@pytest.fixture
def kyc() -> MemoryCustomers:
    integration = MemoryCustomers()
    register_integrations(customer=integration)
    return integration


async def put(client, headers, **fields):
    return await client.put(URL, json=fields, headers=headers)


# -- the status flow, in every encoding -----------------------------------------------------


async def test_unknown_customer_is_needs_info_with_fields_not_404(client, kyc) -> None:
    response = await client.get(URL, params={"type": "sep6"}, headers=bearer(new_account()))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "NEEDS_INFO"
    assert "id" not in body
    assert set(body["fields"]) == {"first_name", "last_name", "email_address", "photo_id_front"}
    assert body["fields"]["photo_id_front"] == {
        "type": "binary",
        "description": "Front of photo ID",
        "optional": True,
    }
    assert kyc.called("get")[0]["type"] == "sep6"


async def test_json_put_then_get_until_accepted(client, kyc) -> None:
    headers = bearer(new_account())
    first = await put(client, headers, first_name="Ada", last_name="Lovelace", type="sep6")
    assert first.status_code == 202
    customer_id = first.json()["id"]

    status = (await client.get(URL, params={"type": "sep6"}, headers=headers)).json()
    assert status["id"] == customer_id
    assert status["status"] == "NEEDS_INFO"
    assert list(status["fields"]) == ["email_address"]
    assert status["provided_fields"]["first_name"]["status"] == "ACCEPTED"

    again = await put(client, headers, id=customer_id, email_address="ada@example.com")
    assert again.json() == {"id": customer_id}
    by_id = await client.get(URL, params={"id": customer_id}, headers=headers)
    assert by_id.json()["status"] == "ACCEPTED"
    assert "fields" not in by_id.json()


async def test_form_encoded_put(client, kyc) -> None:
    headers = bearer(new_account())
    response = await client.put(
        URL,
        data={"first_name": "Grace", "last_name": "Hopper", "email_address": "g@example.com"},
        headers=headers,
    )
    assert response.status_code == 202
    assert (await client.get(URL, headers=headers)).json()["status"] == "ACCEPTED"


async def test_multipart_put_with_a_binary_field_after_the_text(client, kyc) -> None:
    headers = bearer(new_account())
    photo = b"\xff\xd8\xff" + bytes(range(256)) * 8
    response = await client.put(
        URL,
        data={"first_name": "Alan", "last_name": "Turing", "email_address": "a@example.com"},
        files={"photo_id_front": ("front.jpg", photo, "image/jpeg")},
        headers=headers,
    )
    assert response.status_code == 202
    received = kyc.called("put")[0]["photo_id_front"]
    assert isinstance(received, UploadedFile)
    assert (received.data, received.content_type, received.name) == (
        photo,
        "image/jpeg",
        "front.jpg",
    )
    assert received.size == len(photo)
    assert "data" not in repr(received)


async def test_sep9_synonyms_reach_the_integration_under_both_names(client, kyc) -> None:
    headers = bearer(new_account())
    await put(client, headers, given_name="Mary", family_name="Somerville")
    params = kyc.called("put")[0]
    assert params["first_name"] == params["given_name"] == "Mary"
    assert params["last_name"] == params["family_name"] == "Somerville"


async def test_organization_card_numbers_and_suffixes_are_accepted(client, kyc) -> None:
    headers = bearer(new_account())
    response = await client.put(
        URL,
        content=json.dumps(
            {
                "organization.name": "Analytical Engines Ltd",
                "organization.number_of_shareholders": 3,
                "organization.bank_number": "021000021",
                "card.expiration_date": "29-11",
                "card.country_code": "GB",
                "occupation": 2512,
                "birth_date": "1815-12-10",
                "email_address_verification": "1234",
            }
        ),
        headers={**headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 202, response.text
    params = kyc.called("put")[0]
    assert params["organization.number_of_shareholders"] == "3"
    assert params["occupation"] == "2512"
    assert params["card.expiration_date"] == "29-11"


async def test_the_integration_hears_who_the_token_names(client, kyc) -> None:
    account = new_account()
    await put(client, bearer(account, memo="77"), first_name="Ada", type="sep6")
    params = kyc.called("put")[0]
    assert (params["account"], params["memo"], params["memo_type"]) == (account, "77", "id")
    assert params["type"] == "sep6"


async def test_muxed_token_addresses_its_own_customer(client, kyc) -> None:
    big_id = 2**63 + 11
    muxed = MuxedAccount(new_account(), big_id).account_muxed
    headers = bearer(muxed_account=muxed)
    assert (await put(client, headers, first_name="Ada", memo=str(big_id))).status_code == 202
    params = kyc.called("put")[0]
    assert (params["account"], params["memo"]) == (muxed, str(big_id))
    assert (await client.get(URL, headers=headers)).json()["status"] == "NEEDS_INFO"


# -- authorization ----------------------------------------------------------------------------


async def test_no_token_or_a_foreign_token_is_401(client, kyc) -> None:
    foreign = SEP10Token.issue(
        account=new_account(), issuer="http://testserver/auth", lifetime=timedelta(hours=1)
    ).encode("another-server-key-" + "y" * 40)
    for headers in ({}, {"Authorization": f"Bearer {foreign}"}, {"Authorization": "Basic x"}):
        assert (await client.get(URL, headers=headers)).status_code == 401
        assert (await client.put(URL, json={"first_name": "A"}, headers=headers)).status_code == 401
    expired = bearer(new_account(), lifetime_seconds=-10)
    assert (await client.get(URL, headers=expired)).status_code == 401
    assert (await client.request("DELETE", f"{URL}/{new_account()}")).status_code == 401
    assert kyc.calls == []


async def _customer_of(client, headers) -> str:
    return (await put(client, headers, first_name="Ada")).json()["id"]


@pytest.mark.parametrize(
    "intruder",
    ["other account", "same account other memo", "memo of the muxed id", "muxed of the memo"],
)
async def test_a_wallet_never_reaches_another_principals_customer(client, kyc, intruder) -> None:
    account = new_account()
    owner, other = {
        "other account": (bearer(account), bearer(new_account())),
        "same account other memo": (bearer(account, memo="1"), bearer(account, memo="2")),
        "memo of the muxed id": (
            bearer(muxed_account=MuxedAccount(account, 5).account_muxed),
            bearer(account, memo="5"),
        ),
        "muxed of the memo": (
            bearer(account, memo="5"),
            bearer(muxed_account=MuxedAccount(account, 5).account_muxed),
        ),
    }[intruder]
    customer_id = await _customer_of(client, owner)
    hooks_before = len(kyc.calls)

    assert (await client.get(URL, params={"id": customer_id}, headers=other)).status_code == 404
    changed = await put(client, other, id=customer_id, last_name="X")
    assert changed.status_code == 404
    assert changed.json() == {"error": "customer not found for this id"}
    callback = await client.put(
        f"{URL}/callback", json={"id": customer_id, "url": "https://w.example/cb"}, headers=other
    )
    assert callback.status_code == 404
    verify = await client.put(
        f"{URL}/verification",
        json={"id": customer_id, "mobile_number_verification": "1"},
        headers=other,
    )
    assert verify.status_code == 404
    assert len(kyc.calls) == hooks_before  # the integration was never asked

    assert (await client.get(URL, params={"id": customer_id}, headers=owner)).status_code == 200
    unknown = await client.get(URL, params={"id": "no-such-id"}, headers=owner)
    assert unknown.status_code == 404


async def test_a_plain_account_reaches_the_users_it_labelled_with_memos(client, kyc) -> None:
    account = new_account()
    plain = bearer(account)
    labelled = (await put(client, plain, first_name="Ada", memo="42")).json()["id"]
    assert kyc.called("put")[0]["memo"] == "42"
    assert (await client.get(URL, params={"id": labelled}, headers=plain)).status_code == 200
    # the sub-user itself, authenticated as G...:42, owns it too
    mine = await client.get(URL, params={"id": labelled}, headers=bearer(account, memo="42"))
    assert mine.status_code == 200
    # but not a sibling sub-user
    other = await client.get(URL, params={"id": labelled}, headers=bearer(account, memo="43"))
    assert other.status_code == 404


@pytest.mark.parametrize(
    ("token", "params", "named"),
    [
        ({"memo": "5"}, {"memo": "6"}, "memo"),
        ({"muxed": 5}, {"memo": "6"}, "memo"),
        ({}, {"account": "other"}, "account"),
        ({}, {"memo": "1", "memo_type": "rot13"}, "memo_type"),
        ({}, {"memo": "x" * 65, "memo_type": "text"}, "memo"),
        ({}, {"memo": "abc", "memo_type": "hash"}, "memo"),
        ({}, {"memo": str(2**64), "memo_type": "id"}, "memo"),
    ],
)
async def test_identity_parameters_contradicting_the_token_are_400(
    client, kyc, token, params, named
) -> None:
    account = new_account()
    if "muxed" in token:
        headers = bearer(muxed_account=MuxedAccount(account, token["muxed"]).account_muxed)
    else:
        headers = bearer(account, memo=token.get("memo"))
    if params.get("account") == "other":
        params = {**params, "account": new_account()}
    got = await client.get(URL, params=params, headers=headers)
    assert got.status_code == 400
    assert got.json()["error"].startswith(named)
    sent = await put(client, headers, first_name="Ada", **params)
    assert sent.status_code == 400
    assert kyc.called("put") == []


# -- bad input ------------------------------------------------------------------------------


BAD_BODIES = [
    ({"json": {"favourite_colour": "blue"}}, "favourite_colour"),
    ({"json": {"birth_date": "1990-02-31"}}, "birth_date"),
    ({"json": {"birth_date": "19900101"}}, "birth_date"),
    ({"json": {"occupation": "engineer"}}, "occupation"),
    ({"json": {"card.expiration_date": "2029-11"}}, "card.expiration_date"),
    ({"json": {"photo_id_front": "aGVsbG8="}}, "photo_id_front"),
    ({"json": {"first_name": {"nested": "x"}}}, "first_name"),
    ({"json": {"first_name": True}}, "first_name"),
    ({"json": {"first_name": "A", "given_name": "B"}}, "given_name"),
    ({"json": {"mobile_number_verification": ""}}, "mobile_number_verification"),
    ({"json": {"email_address_file_id": "file_1"}}, "email_address_file_id"),
    ({"json": ["first_name"]}, "JSON"),
    ({"content": b'{"first_name": "A", "first_name": "B"}', "json_header": 1}, "first_name"),
    ({"content": b'{"first_name": ', "json_header": 1}, "JSON"),
    (
        {"data": {"first_name": "A"}, "files": {"email_address": ("e.txt", b"x", "text/plain")}},
        "email_address",
    ),
    ({"data": {"first_name": "A"}, "files": {"photo_id_front": ("e", b"", "image/png")}}, "photo"),
    (
        {
            "content": b"--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--\r\n",
            "type": "multipart/form-data; boundary=b",
        },
        "multipart",
    ),
    ({"content": b"--b\r\nbroken", "type": "multipart/form-data"}, "multipart"),
    ({"content": b"first_name=Ada", "type": "text/plain"}, "content type"),
]


@pytest.mark.parametrize(("request_kwargs", "named"), BAD_BODIES)
async def test_bad_input_is_400_naming_the_field_and_keeps_stored_data(
    client, kyc, request_kwargs, named
) -> None:
    headers = bearer(new_account())
    customer_id = (
        await put(client, headers, first_name="Ada", last_name="L", email_address="a@example.com")
    ).json()["id"]
    puts_before = len(kyc.called("put"))

    kwargs = dict(request_kwargs)
    if kwargs.pop("json_header", None):
        headers = {**headers, "Content-Type": "application/json"}
    if "type" in kwargs:
        headers = {**headers, "Content-Type": kwargs.pop("type")}
    response = await client.put(URL, headers=headers, **kwargs)

    assert response.status_code == 400, response.text
    assert set(response.json()) == {"error"}
    assert named in response.json()["error"]
    assert len(kyc.called("put")) == puts_before  # the integration was not called
    after = (await client.get(URL, params={"id": customer_id}, headers=headers)).json()
    assert after["status"] == "ACCEPTED"


async def test_anchor_refusal_is_a_400_with_the_anchors_words(client, kyc) -> None:
    response = await put(client, bearer(new_account()), email_address="refuse@example.com")
    assert response.status_code == 400
    assert response.json() == {"error": "email_address: this address cannot be used"}


async def test_a_query_parameter_repeated_in_the_body_is_400(client, kyc) -> None:
    response = await client.put(
        URL, params={"type": "sep6"}, json={"type": "sep31"}, headers=bearer(new_account())
    )
    assert response.status_code == 400
    assert "'type'" in response.json()["error"]


# -- verification ---------------------------------------------------------------------------


async def test_verification_codes_through_put_customer(client, kyc) -> None:
    headers = bearer(new_account())
    customer_id = (
        await put(
            client,
            headers,
            first_name="Ada",
            last_name="L",
            email_address="a@example.com",
            mobile_number="+441234567890",
        )
    ).json()["id"]
    body = (await client.get(URL, params={"id": customer_id}, headers=headers)).json()
    assert body["status"] == "NEEDS_INFO"
    assert body["fields"] == {}
    assert body["provided_fields"]["mobile_number"]["status"] == "VERIFICATION_REQUIRED"

    wrong = await put(client, headers, id=customer_id, mobile_number_verification="000000")
    assert wrong.status_code == 400
    assert wrong.json() == {"error": "The provided confirmation code was invalid."}
    right = await put(client, headers, id=customer_id, mobile_number_verification=VERIFICATION_CODE)
    assert right.status_code == 202
    body = (await client.get(URL, params={"id": customer_id}, headers=headers)).json()
    assert body["status"] == "ACCEPTED"
    assert body["provided_fields"]["mobile_number"]["status"] == "ACCEPTED"


async def test_deprecated_verification_endpoint_still_works(client, kyc) -> None:
    headers = bearer(new_account())
    customer_id = (
        await put(
            client,
            headers,
            first_name="Ada",
            last_name="L",
            email_address="a@example.com",
            mobile_number="+441234567890",
        )
    ).json()["id"]
    response = await client.put(
        f"{URL}/verification",
        data={"id": customer_id, "mobile_number_verification": VERIFICATION_CODE},
        headers=headers,
    )
    assert response.status_code == 200
    assert response.json()["status"] == "ACCEPTED"
    assert response.json()["id"] == customer_id

    missing_id = await client.put(
        f"{URL}/verification", json={"mobile_number_verification": "1"}, headers=headers
    )
    assert missing_id.status_code == 400
    not_a_code = await client.put(
        f"{URL}/verification", json={"id": customer_id, "first_name": "Eve"}, headers=headers
    )
    assert not_a_code.status_code == 400
    unknown = await client.put(
        f"{URL}/verification",
        json={"id": "nobody", "mobile_number_verification": "1"},
        headers=headers,
    )
    assert unknown.status_code == 404


# -- transaction_id ---------------------------------------------------------------------------


async def test_transaction_id_must_be_the_callers_and_come_with_type(client, kyc, session) -> None:
    account = new_account()
    asset = Asset(code="USD", issuer=Keypair.random().public_key, sep6_enabled=True)
    session.add(asset)
    await session.flush()
    mine = Transaction(
        kind="deposit", status="incomplete", asset=asset, principal=account, stellar_account=account
    )
    session.add(mine)
    await session.commit()
    headers = bearer(account)

    no_type = await client.get(URL, params={"transaction_id": mine.id}, headers=headers)
    assert no_type.status_code == 400
    ok = await client.get(URL, params={"transaction_id": mine.id, "type": "sep6"}, headers=headers)
    assert ok.status_code == 200
    assert kyc.called("get")[-1]["transaction_id"] == mine.id
    theirs = await client.get(
        URL, params={"transaction_id": mine.id, "type": "sep6"}, headers=bearer(new_account())
    )
    assert theirs.status_code == 404


# -- DELETE ---------------------------------------------------------------------------------


async def test_delete_erases_the_callers_customer_only(client, kyc) -> None:
    account = new_account()
    headers = bearer(account)
    customer_id = await _customer_of(client, headers)

    other = await client.request("DELETE", f"{URL}/{account}", headers=bearer(new_account()))
    assert other.status_code == 404
    assert kyc.called("delete") == []

    done = await client.request("DELETE", f"{URL}/{account}", headers=headers)
    assert done.status_code == 200
    assert kyc.customers == {}
    assert (await client.get(URL, params={"id": customer_id}, headers=headers)).status_code == 404
    fresh = (await client.get(URL, headers=headers)).json()
    assert fresh["status"] == "NEEDS_INFO" and "id" not in fresh

    again = await client.request("DELETE", f"{URL}/{account}", headers=headers)
    assert again.status_code == 404


@pytest.mark.parametrize("where", ["query", "form", "json"])
async def test_delete_of_a_shared_account_user_takes_the_memo(client, kyc, where) -> None:
    account = new_account()
    plain = bearer(account)
    await put(client, plain, first_name="One", memo="1")
    await put(client, plain, first_name="Two", memo="2")
    path = f"{URL}/{account}"
    if where == "query":
        response = await client.request("DELETE", path, params={"memo": "2"}, headers=plain)
    elif where == "form":
        response = await client.request("DELETE", path, data={"memo": "2"}, headers=plain)
    else:
        response = await client.request("DELETE", path, json={"memo": "2"}, headers=plain)
    assert response.status_code == 200
    assert [c["memo"] for c in kyc.customers.values()] == ["1"]


async def test_delete_with_a_memo_contradicting_the_token_is_400(client, kyc) -> None:
    account = new_account()
    headers = bearer(account, memo="1")
    await _customer_of(client, headers)
    response = await client.request(
        "DELETE", f"{URL}/{account}", json={"memo": "2"}, headers=headers
    )
    assert response.status_code == 400
    assert len(kyc.customers) == 1
