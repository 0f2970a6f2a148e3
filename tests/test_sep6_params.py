"""SEP-6 request validation: every bad parameter is a 400 naming it, and writes nothing."""

from __future__ import annotations

import base64
from urllib.parse import quote

import pytest
from stellar_sdk import Keypair, MuxedAccount

from killick.app import create_app
from killick.sep6 import checks
from killick.sep6.checks import ParamError
from tests.helpers import make_settings
from tests.sep6_support import Wallet, add_asset, count_rows, use_hooks

HASH = base64.b64encode(b"\x01" * 32).decode()
MUXED = MuxedAccount(Keypair.random().public_key, 2**63 + 1).account_muxed
CONTRACT = "CA3D5KRYM6CB7OWQ6TWYRR3Z4T7GNZLKERYNZGGA5SOAOPIFY6YQGAXE"


@pytest.fixture
async def wallet(client, sessions, cipher) -> Wallet:
    await add_asset(
        sessions,
        cipher,
        significant_decimals=2,
        deposit_min_amount="10",
        deposit_max_amount="1000",
        withdrawal_min_amount="5",
        withdrawal_max_amount="500",
    )
    await add_asset(sessions, cipher, code="OFF", deposit_enabled=False, withdrawal_enabled=False)
    await add_asset(sessions, cipher, code="NOSEP6", sep6_enabled=False)
    use_hooks()
    return Wallet(client)


BAD_COMMON = [
    ({}, "asset_code"),
    ({"asset_code": "XYZ"}, "asset_code"),
    ({"asset_code": "OFF"}, "asset_code"),
    ({"asset_code": "NOSEP6"}, "asset_code"),
    ({"account": "GABC"}, "account"),
    ({"account": Keypair.random().secret}, "account"),
    ({"account": CONTRACT}, "account"),
    ({"amount": "-5"}, "amount"),
    ({"amount": "0"}, "amount"),
    ({"amount": "abc"}, "amount"),
    ({"amount": "1e3"}, "amount"),
    ({"amount": "NaN"}, "amount"),
    ({"amount": "100.001"}, "amount"),  # the asset has 2 decimals
    ({"amount": "100000"}, "amount"),  # above the maximum
    ({"amount": "1"}, "amount"),  # below the minimum
    ({"amount": "922337203685.47758070"}, "amount"),
    ({"amount": "99999999999999999999999"}, "amount"),
    ({"memo_type": "id"}, "memo"),
    ({"memo_type": "number", "memo": "1"}, "memo_type"),
    ({"memo_type": "id", "memo": "-1"}, "memo"),
    ({"memo_type": "id", "memo": str(2**64)}, "memo"),
    ({"memo_type": "id", "memo": "12a"}, "memo"),
    ({"memo_type": "text", "memo": "x" * 29}, "memo"),
    ({"memo_type": "text", "memo": "é" * 15}, "memo"),  # 30 bytes
    ({"memo_type": "hash", "memo": "not base64!"}, "memo"),
    ({"memo_type": "hash", "memo": base64.b64encode(b"short").decode()}, "memo"),
    ({"on_change_callback": "postMessage"}, "on_change_callback"),
    ({"on_change_callback": "ftp://wallet.example/cb"}, "on_change_callback"),
    ({"on_change_callback": "https://"}, "on_change_callback"),
    ({"on_change_callback": "https://user:pw@wallet.example/cb"}, "on_change_callback"),
    ({"lang": "../etc"}, "lang"),
    ({"country_code": "US"}, "country_code"),
    ({"country_code": "U5A"}, "country_code"),
    ({"customer_id": "x" * 65}, "customer_id"),
    ({"wallet_name": "bad\x00name"}, "wallet_name"),
    ({"location_id": "line\nbreak"}, "location_id"),
]
BAD_DEPOSIT = [
    ({"claimable_balance_supported": "yes"}, "claimable_balance_supported"),
    ({"email_address": "not-an-email"}, "email_address"),
]
BAD_WITHDRAW = [
    ({"amount": "4"}, "amount"),
    ({"amount": "501"}, "amount"),
    ({"refund_memo": "1"}, "refund_memo_type"),
    ({"refund_memo_type": "id"}, "refund_memo"),
    ({"refund_memo": "abc", "refund_memo_type": "id"}, "refund_memo"),
    ({"refund_memo": "1", "refund_memo_type": "bogus"}, "refund_memo_type"),
]


def _request(params: dict[str, str]) -> dict[str, str]:
    return {"asset_code": "USD", **params} if "asset_code" not in params and params else params


@pytest.mark.parametrize(("params", "name"), BAD_COMMON + BAD_DEPOSIT)
async def test_bad_deposit_parameter_is_named(wallet: Wallet, sessions, params, name) -> None:
    response = await wallet.get("/deposit", **_request(params))
    assert response.status_code == 400, response.text
    assert response.json()["error"].startswith(f"{name}: ")
    assert await count_rows(sessions) == (0, 0)


@pytest.mark.parametrize(("params", "name"), BAD_COMMON + BAD_WITHDRAW)
async def test_bad_withdraw_parameter_is_named(wallet: Wallet, sessions, params, name) -> None:
    if name == "amount" and params["amount"] in ("1", "100000"):
        params = {"amount": "4" if params["amount"] == "1" else "501"}
    response = await wallet.get("/withdraw", **_request(params))
    assert response.status_code == 400, response.text
    assert response.json()["error"].startswith(f"{name}: ")
    assert await count_rows(sessions) == (0, 0)


@pytest.mark.parametrize("endpoint", ["/deposit", "/withdraw"])
async def test_post_bodies_are_validated_alike(wallet: Wallet, sessions, endpoint) -> None:
    for send in (wallet.post_json, wallet.post_form):
        response = await send(endpoint, {"asset_code": "USD", "memo_type": "id", "memo": "x"})
        assert response.status_code == 400
        assert response.json()["error"].startswith("memo: ")
    bad_json = await wallet.client.post(
        "/sep6" + endpoint,
        content=b"{not json",
        headers={**wallet.headers, "content-type": "application/json"},
    )
    assert bad_json.status_code == 400
    assert bad_json.json()["error"].startswith("request body: ")
    nested = await wallet.post_json(endpoint, {"asset_code": "USD", "amount": {"value": 1}})
    assert nested.status_code == 400
    assert nested.json()["error"].startswith("amount: ")
    assert (await wallet.post_json(endpoint, ["asset_code"])).status_code == 400
    assert await count_rows(sessions) == (0, 0)


async def test_muxed_accounts_follow_enable_sep_0023(database_url, engine, sessions, cipher):
    import httpx

    await add_asset(sessions, cipher)
    use_hooks()
    for enabled, expected in ((True, 200), (False, 400)):
        app = create_app(
            make_settings(DATABASE_URL=database_url, ENABLE_SEP_0023=enabled), engine=engine
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            response = await Wallet(client).get("/deposit", asset_code="USD", account=MUXED)
        assert response.status_code == expected, response.text


async def test_funding_method_must_be_published(wallet: Wallet, sessions) -> None:
    def info(request, asset, lang):  # type: ignore[no-untyped-def]
        return {"funding_methods": {"deposit": ["SEPA", "SWIFT"], "withdraw": ["bank_account"]}}

    use_hooks(sep6_info=info)
    missing = await wallet.get("/deposit", asset_code="USD")
    assert missing.status_code == 400
    assert missing.json()["error"].startswith("funding_method: is required")
    wrong = await wallet.get("/deposit", asset_code="USD", funding_method="cash")
    assert wrong.json()["error"].startswith("funding_method: ")
    old_name = await wallet.get("/deposit", asset_code="USD", type="cash")
    assert old_name.json()["error"].startswith("type: ")
    assert await count_rows(sessions) == (0, 0)
    # The old `type` stands in for funding_method; one published method is the default.
    assert (await wallet.get("/deposit", asset_code="USD", type="SWIFT")).status_code == 200
    assert (await wallet.get("/withdraw", asset_code="USD")).status_code == 200


async def test_required_info_fields_and_choices(wallet: Wallet, sessions) -> None:
    def info(request, asset, lang):  # type: ignore[no-untyped-def]
        return {
            "fields": {"bank_name": {"description": "your bank", "choices": ["A", "B"]}},
            "types": {"bank_account": {"fields": {"dest": {"description": "IBAN"}}}},
        }

    use_hooks(sep6_info=info)
    missing = await wallet.get("/deposit", asset_code="USD")
    assert missing.json()["error"].startswith("bank_name: is required")
    assert (await wallet.get("/deposit", asset_code="USD", bank_name="C")).status_code == 400
    no_dest = await wallet.get("/withdraw", asset_code="USD", type="bank_account")
    assert no_dest.json()["error"].startswith("dest: is required")
    assert await count_rows(sessions) == (0, 0)
    ok = await wallet.get("/deposit", asset_code="USD", bank_name="B")
    assert ok.status_code == 200


def test_sep23_vectors() -> None:
    settings = make_settings(ENABLE_SEP_0023=True)
    valid = [
        "GA7QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJVSGZ",
        "MA7QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJVAAAAAAAAAAAAAJLK",
        "MA7QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJUAAAAAAAAAAAACJUQ",
    ]
    invalid = [
        "GAAAAAAAACGC6",
        "MA7QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJUAAAAAAAAAAAACJUR",
        "GA7QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJVSGZA",
        "GA7QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJUACUSI",
        "G47QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJVP2I",
        "MA7QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJVAAAAAAAAAAAAAJLKA",
        "MA7QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJVAAAAAAAAAAAAAAV75I",
        "M47QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJUAAAAAAAAAAAACJUQ",
        "MA7QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJUAAAAAAAAAAAACJUK===",
        "MA7QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJUAAAAAAAAAAAACJUO",
    ]
    for value in valid:
        assert checks.account("account", value, settings) == value
    for value in invalid:
        with pytest.raises(ParamError):
            checks.account("account", value, settings)


def test_memo_forms_and_canonical_ids() -> None:
    assert checks.memo_pair("memo", "007", "memo_type", "id") == ("7", "id")
    assert checks.memo_pair("memo", str(2**64 - 1), "memo_type", "id")[0] == str(2**64 - 1)
    assert checks.memo_pair("memo", "hello", "memo_type", None) == ("hello", "text")
    assert checks.memo_pair("memo", HASH, "memo_type", "hash") == (HASH, "hash")
    assert checks.memo_pair("memo", None, "memo_type", None) == (None, None)


def test_callbacks_must_be_public_https_outside_local_mode() -> None:
    production = make_settings(
        LOCAL_MODE=False, HOST_URL="https://a.example", HORIZON_URI="https://h.example"
    )
    local = make_settings(LOCAL_MODE=True)
    good = "https://wallet.example/callback?x=1"
    assert checks.callback_url("cb", good, production) == good
    for bad in (
        "http://wallet.example/cb",
        "https://127.0.0.1/cb",
        "https://10.0.0.2/cb",
        "https://localhost/cb",
    ):
        with pytest.raises(ParamError):
            checks.callback_url("cb", bad, production)
    assert checks.callback_url("cb", "http://127.0.0.1:9000/cb", local)


def test_language_falls_back_to_en() -> None:
    settings = make_settings(SEP6_LANGUAGES="en,es")
    assert checks.language("lang", None, settings) == "en"
    assert checks.language("lang", "es-AR", settings) == "es"
    assert checks.language("lang", "fr", settings) == "en"
    with pytest.raises(ParamError):
        checks.language("lang", "e$", settings)


ODD_VALUES = ["\x00", "x" * 5000, "é✓𝄞", "-1", "1e999", " ", "%00", "null", "[]", "0x10"]


@pytest.mark.parametrize("endpoint", ["/deposit", "/withdraw"])
async def test_odd_values_never_cause_a_500(wallet: Wallet, sessions, endpoint) -> None:
    from killick.sep6.params import KNOWN

    for name in KNOWN[endpoint.strip("/")]:
        for value in ODD_VALUES:
            params = {"asset_code": "USD", name: value}
            for response in (
                await wallet.get(endpoint, **params),
                await wallet.post_json(endpoint, params),
            ):
                # 414: a 5000-character value is past MAX_QUERY_BYTES (killick/limits.py)
                assert response.status_code in (200, 400, 414), (name, value, response.text)
    for raw in (b'{"asset_code": "USD", "amount": 1' + b"0" * 5000 + b"}", b'{"memo": null}'):
        response = await wallet.client.post(
            "/sep6" + endpoint,
            content=raw,
            headers={**wallet.headers, "content-type": "application/json"},
        )
        assert response.status_code == 400, response.text
    for value in ODD_VALUES:
        for path, params in (
            ("/transactions", {"asset_code": value}),
            ("/transactions", {"asset_code": "USD", "paging_id": value}),
            ("/transactions", {"asset_code": "USD", "no_older_than": value}),
            ("/transactions", {"asset_code": "USD", "limit": value}),
            ("/transaction", {"id": value}),
            ("/transaction", {"external_transaction_id": value}),
            ("/fee", {"operation": "deposit", "asset_code": "USD", "amount": value}),
        ):
            response = await wallet.get(path, **params)
            assert response.status_code in (200, 400, 404, 414), (path, params, response.text)
        patched = await wallet.patch("/transactions/" + quote(value, safe=""), {"transaction": {}})
        assert patched.status_code in (400, 404, 405)


async def test_a_json_number_with_a_huge_exponent_is_a_400_not_a_memory_bomb(
    client, sessions, cipher
) -> None:
    from tests.helpers import bearer
    from tests.sep6_support import add_asset, use_hooks

    use_hooks()
    await add_asset(sessions, cipher)
    response = await client.post(
        "/sep6/deposit",
        content=b'{"asset_code": "USD", "amount": 1e-999999999}',
        headers={**bearer(), "content-type": "application/json"},
    )
    assert response.status_code == 400
    assert "amount" in response.json()["error"]
