"""The expiry loop: overdue transactions move to expired (with their callback event) and
the log names them; nothing else is touched."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from stellar_sdk import Keypair

from killick.columns import utcnow
from killick.context import Context
from killick.models import Asset, Event, Transaction
from killick.workers import build_worker
from killick.workers.expiry import Expiry
from tests.helpers import make_settings

HOOK_URL = "https://wallet.example/cb"


async def add(context: Context, deadline_in: float | None, **values: Any) -> str:
    async with context.sessions() as session:
        asset = Asset(code="USD", issuer=Keypair.random().public_key)
        account = Keypair.random().public_key
        deadline = utcnow() + timedelta(seconds=deadline_in) if deadline_in is not None else None
        fields: dict[str, Any] = {
            "kind": "deposit",
            "status": "pending_user_transfer_start",
            "on_change_callback": HOOK_URL,
            "user_action_required_by": deadline,
        }
        fields.update(values)
        txn = Transaction(asset=asset, principal=account, stellar_account=account, **fields)
        session.add(txn)
        await session.commit()
        return txn.id


async def test_overdue_transactions_expire_with_their_callback(
    database_url, engine, caplog
) -> None:
    context = Context.build(make_settings(DATABASE_URL=database_url), engine)
    caplog.set_level(logging.INFO, logger="killick.workers.expiry")
    overdue = [await add(context, -60), await add(context, -1, status="incomplete")]
    later = await add(context, 3600)
    no_deadline = await add(context, None)
    paid = await add(context, -60, status="pending_anchor")  # funds arrived: never expires

    offset = timedelta()
    loop = Expiry(context, "worker-a", clock=lambda: utcnow() + offset)
    assert await loop.run_once() == 2
    assert await loop.run_once() == 0

    async with context.sessions() as session:
        statuses = {
            txn.id: txn.status for txn in (await session.scalars(select(Transaction))).unique()
        }
        events = (await session.scalars(select(Event).order_by(Event.id))).all()
    assert {i for i, s in statuses.items() if s == "expired"} == set(overdue)
    assert statuses[later] == statuses[no_deadline] == "pending_user_transfer_start"
    assert statuses[paid] == "pending_anchor"
    assert sorted(e.transaction_id for e in events) == sorted(overdue)
    for event in events:
        assert event.to_status == "expired" and event.callback_url == HOOK_URL
        assert event.next_attempt_at is not None  # the callbacks loop will deliver it
        assert event.payload["transaction"]["status"] == "expired"
    summary = next(r.getMessage() for r in caplog.records if r.name == "killick.workers.expiry")
    assert all(txn_id in summary for txn_id in overdue)

    offset = timedelta(hours=2)  # the later deadline passes too
    assert await loop.run_once() == 1


async def test_a_transaction_a_loop_holds_expires_only_after_its_lease(
    database_url, engine
) -> None:
    """The rails poll may be learning that the funds arrived: expiring it then would
    strand the user's money."""
    context = Context.build(make_settings(DATABASE_URL=database_url), engine)
    held = await add(context, -60)
    async with context.sessions() as session:
        txn = await session.get(Transaction, held)
        assert txn is not None
        txn.claimed_by = "worker-b:deposits_poll"
        txn.claimed_until = utcnow() + timedelta(minutes=1)
        await session.commit()
    offset = timedelta()
    loop = Expiry(context, "worker-a", clock=lambda: utcnow() + offset)
    assert await loop.run_once() == 0
    offset = timedelta(minutes=2)  # the lease is over and it still waits
    assert await loop.run_once() == 1
    async with context.sessions() as session:
        assert (await session.get(Transaction, held)).status == "expired"


def test_the_worker_runs_every_loop_once() -> None:
    context = Context.build(make_settings())
    names = [loop.name for loop in build_worker(context, "worker-a").loops]
    for name in ("deposits_poll", "withdrawals_outgoing", "callbacks", "expiry"):
        assert names.count(name) == 1
    assert len(set(names)) == len(names) and all(len(n) <= 32 for n in names)  # heartbeat key
