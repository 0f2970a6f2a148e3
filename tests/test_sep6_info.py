"""GET /info and GET /fee, and the OpenAPI schema a fuzzer will read."""

from __future__ import annotations

import logging
from decimal import Decimal

import httpx

from killick.app import create_app
from killick.assets import find_asset, update_asset
from tests.helpers import make_settings
from tests.sep6_support import Wallet, add_asset, use_hooks


async def test_info_lists_sep6_assets_with_limits_fees_and_features(
    client, sessions, cipher
) -> None:
    await add_asset(
        sessions,
        cipher,
        deposit_fee_fixed="0.5",
        deposit_fee_percent="1.25",
        deposit_min_amount="0.1",
        deposit_max_amount="1000",
        withdrawal_fee_fixed="2",
    )
    await add_asset(sessions, cipher, code="EUR", withdrawal_enabled=False)
    await add_asset(sessions, cipher, code="HIDDEN", sep6_enabled=False)
    use_hooks()
    response = await client.get("/sep6/info")  # no token needed
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.json() == {
        "deposit": {
            "USD": {
                "enabled": True,
                "authentication_required": True,
                "min_amount": 0.1,
                "max_amount": 1000,
                "fee_fixed": 0.5,
                "fee_percent": 1.25,
            },
            "EUR": {"enabled": True, "authentication_required": True},
        },
        "withdraw": {
            "USD": {"enabled": True, "authentication_required": True, "fee_fixed": 2},
            "EUR": {"enabled": False},
        },
        "fee": {"enabled": True, "authentication_required": False},
        "transactions": {"enabled": True, "authentication_required": True},
        "transaction": {"enabled": True, "authentication_required": True},
        "features": {"account_creation": True, "claimable_balances": True},
    }


async def test_deprecated_fields_and_types_beside_funding_methods(client, sessions, cipher) -> None:
    await add_asset(sessions, cipher)
    await add_asset(sessions, cipher, code="OLD")

    def info(request, asset, lang):  # type: ignore[no-untyped-def]
        if asset.code == "USD":  # a 4.2 hook: funding methods only
            return {"funding_methods": {"deposit": ["SEPA", "SWIFT"], "withdraw": ["cash"]}}
        return {  # a polaris-era hook: fields and types only
            "fields": {"type": {"description": "method", "choices": ["ACH"]}},
            "types": {"bank_account": {"fields": {"dest": {"description": "account"}}}},
        }

    use_hooks(sep6_info=info)
    document = (await client.get("/sep6/info")).json()
    usd_deposit, usd_withdraw = document["deposit"]["USD"], document["withdraw"]["USD"]
    assert usd_deposit["funding_methods"] == ["SEPA", "SWIFT"]
    assert usd_deposit["fields"]["type"]["choices"] == ["SEPA", "SWIFT"]
    assert usd_withdraw["funding_methods"] == ["cash"]
    assert usd_withdraw["types"] == {"cash": {"fields": {}}}
    old_deposit, old_withdraw = document["deposit"]["OLD"], document["withdraw"]["OLD"]
    assert old_deposit["funding_methods"] == ["ACH"]
    assert old_withdraw["funding_methods"] == ["bank_account"]
    assert old_withdraw["types"]["bank_account"]["fields"]["dest"] == {"description": "account"}


async def test_built_once_per_language_and_rebuilt_when_assets_change(
    database_url, engine, sessions, cipher
) -> None:
    await add_asset(sessions, cipher)
    calls: list[tuple[str, str]] = []

    def info(request, asset, lang):  # type: ignore[no-untyped-def]
        calls.append((asset.code, lang))
        return {"fields": {"note": {"description": f"note ({lang})", "optional": True}}}

    use_hooks(sep6_info=info)
    settings = make_settings(DATABASE_URL=database_url, SEP6_LANGUAGES="en,es")
    transport = httpx.ASGITransport(app=create_app(settings, engine=engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        for lang in ("en", "es", "es-MX", "fr", None, "en"):
            params = {"lang": lang} if lang else {}
            response = await client.get("/sep6/info", params=params)
            assert response.status_code == 200
        assert calls == [("USD", "en"), ("USD", "es")]  # fr and es-MX fall back
        spanish = (await client.get("/sep6/info", params={"lang": "es"})).json()
        assert spanish["deposit"]["USD"]["fields"]["note"]["description"] == "note (es)"
        async with sessions() as session:  # e.g. `killick asset update` in another process
            await update_asset(
                session, cipher, await find_asset(session, "USD"), deposit_max_amount="5"
            )
            await session.commit()
        changed = (await client.get("/sep6/info")).json()
        assert changed["deposit"]["USD"]["max_amount"] == 5
        assert calls[-1] == ("USD", "en")
        assert (await client.get("/sep6/info", params={"lang": "e$"})).status_code == 400


async def test_wrong_info_hook_answer_is_a_clean_500(client, sessions, cipher, caplog) -> None:
    await add_asset(sessions, cipher)
    use_hooks(sep6_info=lambda request, asset, lang: {"fields": ["first_name"]})
    with caplog.at_level(logging.ERROR):
        response = await client.get("/sep6/info")
    assert response.status_code == 500
    assert "first_name" not in response.text
    assert any("sep6_info hook answered wrongly for USD" in r.getMessage() for r in caplog.records)


async def test_fee_endpoint(client, sessions, cipher) -> None:
    await add_asset(
        sessions, cipher, deposit_fee_fixed="1", deposit_fee_percent="2", withdrawal_max_amount="50"
    )
    use_hooks()
    fee = await client.get(
        "/sep6/fee", params={"operation": "deposit", "asset_code": "USD", "amount": "10"}
    )
    assert fee.status_code == 200
    assert fee.json() == {"fee": 1.2}
    free = await client.get(
        "/sep6/fee", params={"operation": "withdraw", "asset_code": "USD", "amount": "10"}
    )
    assert free.json() == {"fee": 0}
    for params, name in (
        ({"operation": "swap", "asset_code": "USD", "amount": "1"}, "operation"),
        ({"operation": "deposit", "asset_code": "XYZ", "amount": "1"}, "asset_code"),
        ({"operation": "deposit", "asset_code": "USD", "amount": "-1"}, "amount"),
        ({"operation": "withdraw", "asset_code": "USD", "amount": "51"}, "amount"),
        ({"operation": "deposit", "asset_code": "USD"}, "amount"),
    ):
        response = await client.get("/sep6/fee", params=params)
        assert response.status_code == 400, params
        assert response.json()["error"].startswith(name)

    seen = []

    def fee_hook(params):  # type: ignore[no-untyped-def]
        seen.append(params)
        return Decimal("0.123")

    use_hooks(fee=fee_hook)
    custom = await client.get(
        "/sep6/fee",
        params={"operation": "deposit", "asset_code": "USD", "amount": "10", "type": "SEPA"},
    )
    assert custom.json() == {"fee": 0.12}  # rounded to the asset's 2 decimals
    assert seen[0]["type"] == "SEPA" and seen[0]["amount"] == Decimal("10")
    use_hooks(fee=lambda params: "lots")
    assert (
        await client.get(
            "/sep6/fee", params={"operation": "deposit", "asset_code": "USD", "amount": "1"}
        )
    ).status_code == 500


async def test_openapi_declares_the_sep6_parameters(client, sessions, cipher) -> None:
    schema = (await client.get("/openapi.json")).json()
    deposit = schema["paths"]["/sep6/deposit"]
    names = {p["name"]: p for p in deposit["get"]["parameters"]}
    assert names["asset_code"]["required"] is True
    assert {
        "account",
        "amount",
        "memo",
        "memo_type",
        "funding_method",
        "on_change_callback",
    } <= set(names)
    assert names["memo_type"]["schema"]["enum"] == ["text", "id", "hash"]
    body = deposit["post"]["requestBody"]["content"]
    assert set(body) == {"application/json", "application/x-www-form-urlencoded"}
    withdraw = {p["name"] for p in schema["paths"]["/sep6/withdraw"]["get"]["parameters"]}
    assert {"refund_memo", "refund_memo_type", "dest"} <= withdraw
    listing = {p["name"]: p for p in schema["paths"]["/sep6/transactions"]["get"]["parameters"]}
    assert listing["asset_code"]["required"] is True
    assert "kind" in listing and "paging_id" in listing and "limit" in listing
    assert "patch" in schema["paths"]["/sep6/transactions/{transaction_id}"]


async def test_inactive_sep6_is_not_mounted(database_url, engine) -> None:
    app = create_app(
        make_settings(DATABASE_URL=database_url, ACTIVE_SEPS="sep-1,sep-10"), engine=engine
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        assert (await client.get("/sep6/info")).status_code == 404
        assert (await Wallet(client).get("/deposit", asset_code="USD")).status_code == 404
