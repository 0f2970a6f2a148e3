"""The admin view through the ASGI app: login, CSRF, transactions, assets, the rest.
(tests/test_ops_admin_browser.py drives the same pages in a real browser.)"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select
from stellar_sdk import Keypair

from killick.admin.other_pages import mask
from killick.app import create_app
from killick.integrations import CustomerIntegration, register_integrations
from killick.models import Asset, Event, Transaction
from tests.helpers import make_settings
from tests.test_ops_transactions_cli import seed

PASSWORD = "correct horse battery staple"


@pytest.fixture
async def admin(database_url, engine) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(DATABASE_URL=database_url, ADMIN_PASSWORD=PASSWORD)
    app = create_app(settings, engine=engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


async def log_in(client: httpx.AsyncClient, name: str = "Ada") -> str:
    form = await client.get("/admin/login")
    response = await client.post(
        "/admin/login", data={"csrf": csrf_of(form.text), "name": name, "password": PASSWORD}
    )
    assert response.status_code == 303, response.text
    return csrf_of((await client.get("/admin/transactions")).text)


async def test_off_without_a_password(client) -> None:
    assert (await client.get("/admin/login")).status_code == 404
    assert (await client.get("/admin/transactions")).status_code == 404


def test_a_short_password_is_refused() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="at least 12"):
        make_settings(ADMIN_PASSWORD="short")
    assert make_settings(ADMIN_PASSWORD="").ADMIN_PASSWORD is None


async def test_login_is_required_and_checked(admin) -> None:
    response = await admin.get("/admin/transactions")
    assert response.status_code == 303 and response.headers["location"] == "/admin/login"
    form = await admin.get("/admin/login")
    assert form.headers["x-frame-options"] == "DENY"
    assert "script-src" not in form.headers["content-security-policy"]
    token = csrf_of(form.text)
    no_token = await admin.post("/admin/login", data={"password": PASSWORD})
    assert no_token.status_code == 403
    wrong = await admin.post("/admin/login", data={"csrf": token, "password": "nope" * 4})
    assert wrong.status_code == 401 and "Wrong password" in wrong.text
    right = await admin.post("/admin/login", data={"csrf": token, "password": PASSWORD})
    assert right.status_code == 303
    cookie = right.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/admin" in cookie
    assert (await admin.get("/admin/transactions")).status_code == 200

    tampered = admin.cookies["killick_admin"][:-2] + "xx"
    admin.cookies.clear()
    admin.cookies.set("killick_admin", tampered, path="/admin")
    assert (await admin.get("/admin/transactions")).status_code == 303


async def test_logout_needs_the_token(admin) -> None:
    csrf = await log_in(admin)
    assert (await admin.post("/admin/logout", data={})).status_code == 403
    assert (await admin.post("/admin/logout", data={"csrf": csrf})).status_code == 303


async def test_transactions_list_detail_and_status_change(admin, sessions) -> None:
    ids = await seed(sessions)
    async with sessions() as session:
        row = await session.get(Transaction, ids["anchor"])
        row.message = "<script>alert(1)</script>"
        await session.commit()
    csrf = await log_in(admin)

    listing = await admin.get("/admin/transactions", params={"status": "pending_anchor"})
    assert ids["anchor"] in listing.text and ids["old"] in listing.text
    assert ids["done"] not in listing.text
    found = await admin.get("/admin/transactions", params={"q": "memo-42"})
    assert ids["anchor"] in found.text and ids["old"] not in found.text
    bad = await admin.get("/admin/transactions", params={"since": "soon"})
    assert "not a date" in bad.text

    detail = await admin.get(f"/admin/transactions/{ids['anchor']}")
    assert "<script>alert" not in detail.text and "&lt;script&gt;" in detail.text
    assert 'id="events"' in detail.text and "pending_user_transfer_start" in detail.text
    assert '<option value="error">' in detail.text
    assert '<option value="incomplete">' not in detail.text  # only legal moves are offered

    url = f"/admin/transactions/{ids['anchor']}/status"
    forged = await admin.post(url, data={"status": "error", "reason": "x"})
    assert forged.status_code == 403
    no_reason = await admin.post(url, data={"csrf": csrf, "status": "error", "reason": " "})
    assert no_reason.status_code == 400 and "a reason is required" in no_reason.text
    illegal = await admin.post(url, data={"csrf": csrf, "status": "incomplete", "reason": "x"})
    assert illegal.status_code == 400 and "legal moves from pending_anchor" in illegal.text
    moved = await admin.post(url, data={"csrf": csrf, "status": "error", "reason": "bank bounced"})
    assert moved.status_code == 303
    assert "Moved to error" in (await admin.get(moved.headers["location"])).text
    async with sessions() as session:
        event = (
            await session.scalars(
                select(Event).where(Event.transaction_id == ids["anchor"]).order_by(Event.id)
            )
        ).all()[-1]
        assert (event.to_status, event.reason, event.actor) == (
            "error",
            "bank bounced",
            "admin:Ada",
        )

    stuck = await admin.get(f"/admin/transactions/{ids['stellar']}")
    assert "unresolved on the network" in stuck.text and 'id="move"' not in stuck.text
    refused = await admin.post(
        f"/admin/transactions/{ids['stellar']}/status",
        data={"csrf": csrf, "status": "error", "reason": "stuck"},
    )
    assert refused.status_code == 400 and "could pay twice" in refused.text
    assert (await admin.get("/admin/transactions/nope")).status_code == 404


async def test_assets_create_edit_and_rules(admin, sessions) -> None:
    csrf = await log_in(admin)
    issuer = Keypair.random().public_key
    bad = await admin.post(
        "/admin/assets",
        data={"csrf": csrf, "code": "USDC", "issuer": issuer, "deposit_fee_percent": "150"},
    )
    assert bad.status_code == 400 and "deposit_fee_percent" in bad.text
    created = await admin.post(
        "/admin/assets",
        data={
            "csrf": csrf,
            "code": "USDC",
            "issuer": issuer,
            "deposit_fee_fixed": "1.5",
            "sep6_enabled": "1",
            "deposit_enabled": "1",
            "withdrawal_enabled": "1",
        },
    )
    assert created.status_code == 303, created.text
    page = await admin.get(created.headers["location"])
    assert "Saved." in page.text and 'name="sep6_enabled" value="1" checked' in page.text
    async with sessions() as session:
        asset = await session.scalar(select(Asset).where(Asset.code == "USDC"))
    edit = f"/admin/assets/{asset.id}"
    limits = await admin.post(
        edit,
        data={"csrf": csrf, "deposit_min_amount": "10", "deposit_max_amount": "5"},
    )
    assert limits.status_code == 400 and "deposit_min_amount" in limits.text
    saved = await admin.post(
        edit, data={"csrf": csrf, "deposit_fee_fixed": "2", "deposit_enabled": "1"}
    )
    assert saved.status_code == 303
    async with sessions() as session:
        asset = await session.get(Asset, asset.id)
        assert str(asset.deposit_fee_fixed) == "2.0000000"
        assert asset.sep6_enabled is False and asset.deposit_enabled is True
    assert (await admin.post(edit, data={"deposit_fee_fixed": "3"})).status_code == 403
    assert "USDC" in (await admin.get("/admin/assets")).text


async def test_unmatched_and_customers(admin) -> None:
    await log_in(admin)
    assert "None." in (await admin.get("/admin/unmatched")).text
    page = await admin.get("/admin/customers")
    assert "does not list customers" in page.text

    class Customers(CustomerIntegration):
        def list_customers(self, offset, limit, *args, **kwargs):
            return [
                {"id": "c1", "status": "ACCEPTED", "first_name": "Ada", "email": "ada@x.org"},
            ][offset : offset + limit]

    register_integrations(customer=Customers())
    page = await admin.get("/admin/customers")
    assert "c1" in page.text and "ACCEPTED" in page.text
    assert "Ada" not in page.text and "ada@x.org" not in page.text
    assert mask("ada@x.org") == "a••••" and mask("0001234567") == "00••••67"
