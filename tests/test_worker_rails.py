"""The rails loops: pending deposits polled in leased keyset pages and moved once with
sound amounts; withdrawals marked before the bank is called, sent under one key whatever
crashes, retried when the bank fails, completed when it confirms."""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from stellar_sdk import Keypair

from killick.columns import utcnow
from killick.context import Context
from killick.integrations import RailsIntegration, WithdrawalIntegration, register_integrations
from killick.models import Asset, Event, Transaction
from killick.workers.deposits_poll import DepositsPoll
from killick.workers.outgoing import Outgoing
from tests.helpers import make_settings

poller: contextvars.ContextVar[str] = contextvars.ContextVar("poller")
FAST = {"RAILS_POLL_SECONDS": 0, "RAILS_RETRY_BASE_SECONDS": 10, "RAILS_RETRY_CAP_SECONDS": 60}


class Clock:
    """Real time, moved forward by the test (lease expiry, backoff) instead of sleeping."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return utcnow() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


def context_for(database_url: str, engine: Any, **settings: Any) -> Context:
    return Context.build(make_settings(DATABASE_URL=database_url, **FAST, **settings), engine)


async def new_asset(context: Context, **values: Any) -> int:
    async with context.sessions() as session:
        asset = Asset(code="USD", issuer=Keypair.random().public_key, **values)
        session.add(asset)
        await session.commit()
        return asset.id


async def add(context: Context, asset_id: int, count: int = 1, **values: Any) -> list[str]:
    """Transactions put straight in the database (as SEP-6 and the observer would)."""
    fields: dict[str, Any] = {
        "kind": "deposit",
        "status": "pending_user_transfer_start",
        "amount_in": Decimal("100"),
        "amount_fee": Decimal("2"),
        "amount_out": Decimal("98"),
    }
    fields.update(values)
    async with context.sessions() as session:
        asset = await session.get(Asset, asset_id)
        rows = []
        for _ in range(count):
            account = Keypair.random().public_key
            rows.append(
                Transaction(asset=asset, principal=account, stellar_account=account, **fields)
            )
        session.add_all(rows)
        await session.commit()
        return [row.id for row in rows]


async def load(context: Context, txn_id: str) -> Transaction:
    async with context.sessions() as session:
        txn = await session.get(Transaction, txn_id)
        assert txn is not None
        return txn


async def moves(context: Context, txn_id: str) -> list[tuple[str | None, str, str]]:
    async with context.sessions() as session:
        rows = await session.scalars(
            select(Event).where(Event.transaction_id == txn_id).order_by(Event.id)
        )
        return [(e.from_status, e.to_status, e.actor) for e in rows]


class Deposits(RailsIntegration):
    """A bank that knows which deposits arrived; ``on_poll`` may do more (async hook)."""

    def __init__(self, on_poll: Callable[[list[Transaction]], Any] | None = None) -> None:
        self.pages: list[list[str]] = []
        self.arrived: set[str] = set()
        self.on_poll = on_poll

    async def poll_pending_deposits(self, pending_deposits, *args, **kwargs):
        self.pages.append([d.id for d in pending_deposits])
        if self.on_poll is not None:
            answer = self.on_poll(pending_deposits)
            return await answer if asyncio.iscoroutine(answer) else answer
        return [d for d in pending_deposits if d.id in self.arrived]


# -- pending deposits ---------------------------------------------------------------------


async def test_waiting_deposits_are_polled_in_bounded_keyset_pages(database_url, engine) -> None:
    context = context_for(database_url, engine, RAILS_PAGE_SIZE=5)
    asset_id = await new_asset(context)
    waiting = await add(context, asset_id, 20) + await add(
        context, asset_id, 3, status="pending_external"
    )
    await add(context, asset_id, 2, status="pending_anchor")
    await add(context, asset_id, 2, kind="withdrawal")
    bank = Deposits()
    bank.arrived = set(waiting[::3])
    register_integrations(rails=bank)

    assert await DepositsPoll(context, "worker-a").run_once() == len(bank.arrived)

    assert all(len(page) <= 5 for page in bank.pages)
    asked = [txn_id for page in bank.pages for txn_id in page]
    assert asked == sorted(waiting)  # every waiting deposit once, in id order, nothing else
    for txn_id in waiting:
        txn = await load(context, txn_id)
        assert txn.claimed_by is None
        if txn_id in bank.arrived:
            assert txn.status == "pending_anchor"
            assert (txn.amount_in, txn.amount_fee, txn.amount_out) == (100, 2, 98)
            assert (await moves(context, txn_id))[-1][1:] == ("pending_anchor", "killick")
        else:
            assert txn.status in ("pending_user_transfer_start", "pending_external")
            assert await moves(context, txn_id) == []


async def test_a_deposit_returned_twice_or_in_a_later_poll_moves_once(
    database_url, engine, caplog
) -> None:
    context = context_for(database_url, engine)
    asset_id = await new_asset(context)
    (first,) = await add(context, asset_id)
    kept: list[Transaction] = []

    def answer(page: list[Transaction]) -> list[Transaction]:
        kept.extend(page)
        return [*page, *page, *kept]  # twice now, and the stale objects of earlier polls

    register_integrations(rails=Deposits(answer))
    loop = DepositsPoll(context, "worker-a")
    assert await loop.run_once() == 1
    (second,) = await add(context, asset_id)
    assert await loop.run_once() == 1
    assert await loop.run_once() == 0
    for txn_id in (first, second):
        assert await moves(context, txn_id) == [
            ("pending_user_transfer_start", "pending_anchor", "killick")
        ]
    assert any("not one of the transactions given" in r.getMessage() for r in caplog.records)


async def test_amounts_the_hook_sets_are_rounded_and_completed(database_url, engine) -> None:
    context = context_for(database_url, engine)
    asset_id = await new_asset(
        context,
        significant_decimals=2,
        deposit_fee_fixed=Decimal(1),
        deposit_fee_percent=Decimal(1),
    )
    same, less, explicit = await add(context, asset_id, 3)
    (unknown,) = await add(context, asset_id, amount_in=None, amount_fee=None, amount_out=None)

    def answer(page: list[Transaction]) -> list[Transaction]:
        for txn in page:
            if txn.id == less:  # less arrived than announced: fee and amount_out follow
                txn.amount_in = Decimal("50.005")
            elif txn.id == explicit:  # the bank says it all
                txn.amount_in, txn.amount_fee, txn.amount_out = 100, Decimal("3.335"), "96.669"
            elif txn.id == unknown:
                txn.amount_in = 10
        return page

    register_integrations(rails=Deposits(answer))
    assert await DepositsPoll(context, "worker-a").run_once() == 4

    def amounts(txn: Transaction) -> tuple[Decimal | None, ...]:
        return (txn.amount_in, txn.amount_fee, txn.amount_out)

    assert amounts(await load(context, same)) == (100, 2, 98)
    assert amounts(await load(context, less)) == (
        Decimal("50.01"),
        Decimal("1.50"),
        Decimal("48.51"),
    )
    # Wallets see the asset's decimals; amount_out is never rounded up.
    assert amounts(await load(context, explicit)) == (100, Decimal("3.34"), Decimal("96.66"))
    assert amounts(await load(context, unknown)) == (10, Decimal("1.10"), Decimal("8.90"))
    event = (await load_events(context, less))[-1]
    assert event.payload["transaction"]["amount_out"] == "48.51"


async def load_events(context: Context, txn_id: str) -> list[Event]:
    async with context.sessions() as session:
        query = select(Event).where(Event.transaction_id == txn_id).order_by(Event.id)
        return list((await session.scalars(query)).all())


async def test_unusable_amounts_leave_the_deposit_waiting_and_say_why(
    database_url, engine, caplog
) -> None:
    context = context_for(database_url, engine)
    asset_id = await new_asset(context, significant_decimals=2)
    floated, uncovered = await add(context, asset_id, 2)
    (missing,) = await add(context, asset_id, amount_in=None, amount_fee=None, amount_out=None)

    def answer(page: list[Transaction]) -> list[Transaction]:
        for txn in page:
            if txn.id == floated:
                txn.amount_in = 99.5
            elif txn.id == uncovered:
                txn.amount_in, txn.amount_fee, txn.amount_out = Decimal(1), Decimal(2), None
        return page

    register_integrations(rails=Deposits(answer))
    assert await DepositsPoll(context, "worker-a").run_once() == 0
    for txn_id in (floated, uncovered, missing):
        txn = await load(context, txn_id)
        assert txn.status == "pending_user_transfer_start" and txn.claimed_by is None
        logged = [r.getMessage() for r in caplog.records if txn_id in r.getMessage()]
        assert logged and "unusable amounts" in logged[0]
    assert (await load(context, floated)).amount_in == 100


async def test_statuses_the_hook_sets_go_through_the_state_machine(database_url, engine) -> None:
    context = context_for(database_url, engine)
    asset_id = await new_asset(context)
    confirming, illegal = await add(context, asset_id, 2)
    state = {"round": 0}

    def answer(page: list[Transaction]) -> list[Transaction]:
        state["round"] += 1
        by_id = {t.id: t for t in page}
        if state["round"] == 1:
            by_id[confirming].status = "pending_external"  # the bank saw it coming
            by_id[illegal].status = "completed"  # not a legal move
            return []
        return [by_id[confirming]] if confirming in by_id else []

    register_integrations(rails=Deposits(answer))
    loop = DepositsPoll(context, "worker-a")
    assert await loop.run_once() == 0
    assert await loop.run_once() == 1
    hook = "rails.poll_pending_deposits"
    assert await moves(context, confirming) == [
        ("pending_user_transfer_start", "pending_external", hook),
        ("pending_external", "pending_anchor", "killick"),
    ]
    assert (await load(context, illegal)).status == "pending_user_transfer_start"


async def test_a_failing_poll_keeps_every_deposit_waiting(database_url, engine, caplog) -> None:
    context = context_for(database_url, engine, RAILS_PAGE_SIZE=2)
    asset_id = await new_asset(context)
    ids = await add(context, asset_id, 3)

    def answer(page: list[Transaction]) -> list[Transaction]:
        page[0].amount_in = Decimal(1)
        raise ConnectionError("bank down")

    register_integrations(rails=Deposits(answer))
    assert await DepositsPoll(context, "worker-a").run_once() == 0
    for txn_id in ids:
        txn = await load(context, txn_id)
        assert (txn.status, txn.amount_in, txn.claimed_by) == (
            "pending_user_transfer_start",
            100,
            None,
        )
    failure = next(r for r in caplog.records if "failed for 2 deposit(s)" in r.getMessage())
    assert sorted(ids)[0] in failure.getMessage() and failure.exc_info


async def test_two_pollers_never_hand_the_same_deposit_to_the_hook(database_url, engine) -> None:
    context = context_for(database_url, engine, RAILS_PAGE_SIZE=4)
    asset_id = await new_asset(context)
    ids = await add(context, asset_id, 30)
    seen: dict[str, list[str]] = {"a": [], "b": []}

    class Slow(RailsIntegration):
        async def poll_pending_deposits(self, pending_deposits, *args, **kwargs):
            seen[poller.get()].extend(t.id for t in pending_deposits)
            await asyncio.sleep(0.01)  # both pollers are inside the hook at once
            return pending_deposits

    register_integrations(rails=Slow())

    async def run(name: str) -> int:
        poller.set(name)
        return await DepositsPoll(context, f"worker-{name}").run_once()

    assert sum(await asyncio.gather(run("a"), run("b"))) == 30
    assert seen["a"] and seen["b"]
    assert sorted(seen["a"] + seen["b"]) == sorted(ids)
    for txn_id in ids:
        assert len(await moves(context, txn_id)) == 1


# -- outgoing withdrawals -----------------------------------------------------------------


class Bank(RailsIntegration):
    """A bank that is idempotent on the key, as execute_outgoing_transaction must be."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession] | None = None) -> None:
        self.sessions = sessions
        self.calls: list[tuple[str, str]] = []
        self.paid: dict[str, Decimal] = {}
        self.seen_in_database: list[tuple[str, datetime | None]] = []
        self.failures = 0
        self.confirmed: set[str] = set()
        self.set_status: dict[str, str] = {}

    async def execute_outgoing_transaction(self, transaction, idempotency_key, *args, **kwargs):
        self.calls.append((transaction.id, idempotency_key))
        if self.sessions is not None:  # what a crash at this moment would leave behind
            async with self.sessions() as session:
                stored = await session.get(Transaction, transaction.id)
                self.seen_in_database.append((stored.status, stored.outgoing_sent_at))
        if self.failures:
            self.failures -= 1
            raise ConnectionError("bank unavailable")
        self.paid.setdefault(idempotency_key, transaction.amount_out)
        transaction.external_transaction_id = f"bank-{idempotency_key[:8]}"
        if transaction.id in self.set_status:
            transaction.status = self.set_status[transaction.id]

    def poll_outgoing_transactions(self, transactions, *args, **kwargs):
        for txn in transactions:
            if txn.id in self.set_status:
                txn.status = self.set_status[txn.id]
        return [t for t in transactions if t.id in self.confirmed]


class Completed(WithdrawalIntegration):
    def __init__(self) -> None:
        self.ids: list[str] = []

    def after_withdrawal(self, transaction, *args, **kwargs) -> None:
        self.ids.append(transaction.id)


async def add_withdrawals(context: Context, count: int = 1, **values: Any) -> list[str]:
    asset_id = await new_asset(context)
    values.setdefault("status", "pending_anchor")
    return await add(context, asset_id, count, kind="withdrawal", **values)


async def test_marked_as_being_sent_before_the_bank_is_called_then_completed(
    database_url, engine
) -> None:
    context = context_for(database_url, engine)
    (txn_id,) = await add_withdrawals(context)
    bank, completed = Bank(context.sessions), Completed()
    register_integrations(rails=bank, withdrawal=completed)
    loop = Outgoing(context, "worker-a")

    assert await loop.run_once() == 1
    assert bank.calls == [(txn_id, txn_id)]
    assert bank.seen_in_database == [("pending_external", None)]  # committed before the call
    sent = await load(context, txn_id)
    assert sent.status == "pending_external" and sent.outgoing_sent_at is not None
    assert sent.external_transaction_id == f"bank-{txn_id[:8]}" and sent.claimed_by is None
    assert await loop.run_once() == 0  # sent, not confirmed: nothing more to do

    bank.confirmed.add(txn_id)
    assert await loop.run_once() == 1
    assert (await load(context, txn_id)).status == "completed"
    assert completed.ids == [txn_id]
    assert [m[:2] for m in await moves(context, txn_id)] == [
        ("pending_anchor", "pending_external"),
        ("pending_external", "completed"),
    ]
    assert bank.calls == [(txn_id, txn_id)]


class SimulatedCrash(Exception):
    pass


async def test_a_crash_between_the_call_and_its_record_never_calls_with_another_key(
    database_url, engine
) -> None:
    context = context_for(database_url, engine, RAILS_CONCURRENCY=1)
    ids = await add_withdrawals(context, 2)
    # A worker that died after committing "being sent" but before calling the bank.
    (orphan,) = await add_withdrawals(
        context, status="pending_external", claimed_by="dead-worker", claimed_until=utcnow()
    )
    bank = Bank()
    register_integrations(rails=bank)
    crash = {"armed": True}

    class CrashingSession(AsyncSession):
        async def commit(self) -> None:
            if crash["armed"] and bank.paid:  # the bank paid; the record is next
                crash["armed"] = False
                raise SimulatedCrash
            await super().commit()

    crashing = dataclasses.replace(
        context,
        sessions=async_sessionmaker(engine, class_=CrashingSession, expire_on_commit=False),
    )
    clock = Clock()
    await Outgoing(crashing, "worker-a", clock=clock).send_due()  # dies at the record
    crashed = bank.calls[0][0]
    assert (await load(context, crashed)).outgoing_sent_at is None
    assert len(bank.paid) == 1

    clock.advance(context.settings.WORKER_LEASE_SECONDS + 1)  # its lease runs out
    restarted = Outgoing(context, "worker-b", clock=clock)
    for _ in range(5):
        await restarted.send_due()

    assert all(key == txn_id for txn_id, key in bank.calls)
    assert sorted(bank.paid) == sorted([*ids, orphan])  # each paid once, under its own id
    assert [c[0] for c in bank.calls].count(crashed) == 2
    for txn_id in [*ids, orphan]:
        txn = await load(context, txn_id)
        assert txn.status == "pending_external" and txn.outgoing_sent_at is not None
    assert [m[:2] for m in await moves(context, crashed)] == [
        ("pending_anchor", "pending_external")
    ]


async def test_a_failing_bank_is_retried_with_backoff_under_the_same_key(
    database_url, engine, caplog
) -> None:
    context = context_for(database_url, engine)
    (txn_id,) = await add_withdrawals(context)
    bank = Bank()
    bank.failures = 2
    register_integrations(rails=bank)
    clock = Clock()
    loop = Outgoing(context, "worker-a", clock=clock)

    assert await loop.send_due() == 1
    txn = await load(context, txn_id)
    assert (txn.status, txn.outgoing_sent_at, txn.submission_attempts) == (
        "pending_external",
        None,
        1,
    )
    assert txn.claimed_until > clock() + timedelta(seconds=4)  # backing off
    assert await loop.send_due() == 0
    assert await Outgoing(context, "worker-b", clock=clock).send_due() == 0  # nor anyone else

    for attempt in (2, 3):
        clock.advance(120)
        assert await loop.send_due() == 1
        assert len(bank.calls) == attempt
    txn = await load(context, txn_id)
    assert txn.outgoing_sent_at is not None and txn.claimed_by is None
    assert bank.calls == [(txn_id, txn_id)] * 3 and list(bank.paid) == [txn_id]
    failures = [
        r for r in caplog.records if "failed" in r.getMessage() and txn_id in r.getMessage()
    ]
    assert len(failures) >= 2 and any(r.exc_info for r in failures)


async def test_statuses_the_bank_hooks_set_go_through_the_state_machine(
    database_url, engine
) -> None:
    context = context_for(database_url, engine)
    refused, instant, failed_later, confirmed = await add_withdrawals(context, 4)
    bank, completed = Bank(), Completed()
    bank.set_status = {refused: "error", instant: "completed"}
    register_integrations(rails=bank, withdrawal=completed)
    loop = Outgoing(context, "worker-a")
    await loop.run_once()
    assert (await load(context, refused)).status == "error"
    assert (await load(context, instant)).status == "completed"
    assert completed.ids == [instant]

    bank.set_status = {failed_later: "error", confirmed: "refunded"}
    bank.confirmed = {failed_later, confirmed}  # a status set by the hook wins
    await loop.run_once()
    assert (await load(context, failed_later)).status == "error"
    assert (await load(context, confirmed)).status == "refunded"
    hook = "rails.poll_outgoing_transactions"
    assert (await moves(context, confirmed))[-1] == ("pending_external", "refunded", hook)


async def test_two_workers_send_each_withdrawal_once_and_poll_in_pages(
    database_url, engine
) -> None:
    context = context_for(database_url, engine, RAILS_CONCURRENCY=3, RAILS_PAGE_SIZE=4)
    ids = await add_withdrawals(context, 10)

    class SlowBank(Bank):
        pages: list[list[str]] = []

        async def execute_outgoing_transaction(self, transaction, idempotency_key, *a, **k):
            await asyncio.sleep(0.01)
            await super().execute_outgoing_transaction(transaction, idempotency_key)

        def poll_outgoing_transactions(self, transactions, *args, **kwargs):
            self.pages.append([t.id for t in transactions])
            return transactions

    bank = SlowBank()
    register_integrations(rails=bank)
    loops = [Outgoing(context, f"worker-{n}") for n in "ab"]
    for _ in range(10):
        if sum(await asyncio.gather(*(loop.send_due() for loop in loops))) == 0:
            break
    assert sorted(bank.calls) == sorted((i, i) for i in ids)
    assert await loops[0].poll_sent() == 10
    assert all(len(page) <= 4 for page in bank.pages)
    assert [i for page in bank.pages for i in page] == sorted(ids)
    for txn_id in ids:
        assert (await load(context, txn_id)).status == "completed"


async def test_a_claim_leases_at_most_its_limit(database_url, engine) -> None:
    """PostgreSQL may re-run a LIMIT … SKIP LOCKED subquery per row (killick.workers.leases)."""
    from killick.workers.leases import claim_ids

    context = context_for(database_url, engine)
    ids = await add(context, await new_asset(context), 23)
    async with context.sessions() as session:
        pages = []
        for _ in range(6):
            page = await claim_ids(
                session,
                Transaction.id,
                Transaction.claimed_by,
                Transaction.claimed_until,
                conditions=[Transaction.status == "pending_user_transfer_start"],
                owner="worker-a",
                now=utcnow(),
                lease=timedelta(seconds=60),
                limit=5,
                order_by=[Transaction.id],
            )
            pages.append(page)
    assert [len(p) for p in pages] == [5, 5, 5, 5, 3, 0]
    assert [i for p in pages for i in p] == sorted(ids)


async def test_without_rails_hooks_transactions_are_left_to_the_anchor(
    database_url, engine
) -> None:
    context = context_for(database_url, engine)
    (deposit,) = await add(context, await new_asset(context))
    (withdrawal,) = await add_withdrawals(context)
    assert await DepositsPoll(context, "worker-a").run_once() == 0
    assert await Outgoing(context, "worker-a").run_once() == 0
    assert (await load(context, deposit)).status == "pending_user_transfer_start"
    txn = await load(context, withdrawal)
    assert (txn.status, txn.claimed_by) == ("pending_anchor", None)


async def test_a_withdrawal_that_moved_on_after_its_claim_is_not_sent(database_url, engine) -> None:
    context = context_for(database_url, engine)
    lease = {"claimed_by": "worker-a", "claimed_until": utcnow() + timedelta(seconds=60)}
    (held,) = await add_withdrawals(context, status="on_hold", **lease)
    (sent,) = await add_withdrawals(
        context, status="pending_external", outgoing_sent_at=utcnow(), **lease
    )
    bank = Bank()
    register_integrations(rails=bank)
    loop = Outgoing(context, "worker-a")
    assert await loop.send(held) == 0 and await loop.send(sent) == 0
    assert bank.calls == []
    assert (await load(context, held)).claimed_by is None
