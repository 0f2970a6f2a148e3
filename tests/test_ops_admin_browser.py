"""The admin pages in a real browser (Debian's headless Chromium over the DevTools
protocol): log in, filter the list, open a transaction, change its status.

Marked ``browser``; skipped, saying why, where no Chromium is installed
(``apt-get install chromium``). ``pytest -m browser`` runs only these."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import select

from killick.app import create_app
from killick.models import Event
from tests.browser import chromium, find_chromium
from tests.helpers import make_settings
from tests.servers import serve_asgi
from tests.test_ops_transactions_cli import seed

PASSWORD = "correct horse battery staple"
CHROMIUM = find_chromium()

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        CHROMIUM is None and os.environ.get("KILLICK_REQUIRE_BROWSER") != "1",
        reason="no Chromium on this machine (apt-get install chromium) for the browser test",
    ),
]


async def test_admin_in_a_browser(database_url, engine, sessions, tmp_path) -> None:
    assert CHROMIUM is not None, "KILLICK_REQUIRE_BROWSER=1 but no Chromium is installed"
    ids = await seed(sessions)
    settings = make_settings(DATABASE_URL=database_url, ADMIN_PASSWORD=PASSWORD)
    app = create_app(settings, engine=engine)
    async with serve_asgi(app) as address, chromium(CHROMIUM) as browser:
        base = f"http://{address}"
        assert await browser.goto(f"{base}/admin/transactions") == f"{base}/admin/login"

        url = await browser.submit("#login", {"name": "Grace", "password": "wrong" * 3})
        assert "Wrong password" in await browser.text()
        url = await browser.submit("#login", {"name": "Grace", "password": PASSWORD})
        assert url == f"{base}/admin/transactions"
        listing = await browser.text("#transactions")
        assert ids["anchor"] in listing and ids["done"] in listing

        url = await browser.submit("#filters", {"status": "pending_anchor", "asset": "USD"})
        assert "status=pending_anchor" in url
        listing = await browser.text("#transactions")
        assert ids["anchor"] in listing and ids["old"] in listing and ids["done"] not in listing

        await browser.evaluate(f"document.querySelector('a[href$=\"{ids['anchor']}\"]').click()")
        url = await browser.settle(url)
        assert url == f"{base}/admin/transactions/{ids['anchor']}"
        assert "pending_user_transfer_start" in await browser.text("#events")

        url = await browser.submit("#move", {"status": "error", "reason": "bank bounced it"})
        assert "Moved to error." in await browser.text()
        events = await browser.text("#events")
        assert "admin:Grace" in events and "bank bounced it" in events
        (tmp_path / "admin-transaction.png").write_bytes(await browser.screenshot())

        await browser.goto(f"{base}/admin/transactions/{ids['stellar']}")
        assert "unresolved on the network" in await browser.text()
        await browser.goto(f"{base}/admin/assets")
        assert "USD" in await browser.text("#assets")

    async with sessions() as session:
        last = (
            await session.scalars(
                select(Event).where(Event.transaction_id == ids["anchor"]).order_by(Event.id)
            )
        ).all()[-1]
    assert (last.to_status, last.reason, last.actor) == ("error", "bank bounced it", "admin:Grace")
