"""Operators steering transactions: `killick transactions list|show|set-status` and the
rule they share with the admin view (killick/operator.py)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from killick.cli import main
from killick.columns import utcnow
from killick.db import create_engine, session_factory
from killick.models import Event, Submission, Transaction
from killick.operator import OperatorError, TransactionFilter, list_transactions, set_status
from killick.transactions import transition
from tests.helpers import JWT_KEY, SIGNING
from tests.test_models import make_asset, make_transaction


async def seed(sessions) -> dict[str, str]:
    """A deposit in pending_anchor, a withdrawal completed, a deposit in pending_stellar
    whose envelope is unresolved, and one more USD deposit started two days ago."""
    async with sessions() as session:
        usd = await make_asset(session, "USD")
        eur = await make_asset(session, "EUR")
        anchor = make_transaction(usd, kind="deposit", status=None, deposit_memo="memo-42")
        transition(session, anchor, "pending_user_transfer_start")
        anchor.status = "pending_anchor"
        done = make_transaction(eur, kind="withdrawal", status="completed")
        done.stellar_transaction_id = "ab" * 32
        stellar = make_transaction(usd, kind="deposit", status="pending_stellar")
        stellar.envelope_hash = "cd" * 32
        old = make_transaction(
            usd, kind="deposit", status="pending_anchor", _now=utcnow() - timedelta(days=2)
        )
        session.add_all([anchor, done, stellar, old])
        session.add(
            Submission(
                hash="cd" * 32,
                source_account=SIGNING.public_key,
                sequence="1",
                max_time=0,
                envelope_xdr="AAAA",
                plan={"deposits": {stellar.id: {"amount": "1"}}},
                status="pending",
            )
        )
        await session.commit()
        return {
            "anchor": anchor.id,
            "done": done.id,
            "stellar": stellar.id,
            "old": old.id,
            "account": anchor.stellar_account,
        }


async def test_set_status_records_reason_and_actor(sessions) -> None:
    ids = await seed(sessions)
    async with sessions() as session:
        event = await set_status(
            session, ids["anchor"], "error", reason="bank bounced it", actor="admin"
        )
        await session.commit()
    assert (event.from_status, event.to_status) == ("pending_anchor", "error")
    async with sessions() as session:
        stored = await session.get(Transaction, ids["anchor"])
        assert stored.status == "error"
        events = (
            await session.scalars(select(Event).where(Event.transaction_id == ids["anchor"]))
        ).all()
        assert [(e.to_status, e.reason, e.actor) for e in events][-1] == (
            "error",
            "bank bounced it",
            "admin",
        )


@pytest.mark.parametrize(
    ("key", "status", "reason", "message"),
    [
        ("anchor", "error", "  ", "a reason is required"),
        ("done", "pending_anchor", "retry", "none: completed is final"),
        ("anchor", "incomplete", "why not", "legal moves from pending_anchor: completed"),
        ("anchor", "paid", "typo", "unknown status 'paid'"),
        ("stellar", "error", "stuck", "unresolved on the network"),
    ],
)
async def test_set_status_refuses_with_what_to_do(sessions, key, status, reason, message) -> None:
    ids = await seed(sessions)
    async with sessions() as session:
        with pytest.raises(OperatorError, match=message):
            await set_status(session, ids[key], status, reason=reason, actor="admin")


async def test_pending_stellar_moves_once_the_envelope_is_resolved(sessions) -> None:
    ids = await seed(sessions)
    async with sessions() as session:
        submission = await session.get(Submission, "cd" * 32)
        submission.status = "abandoned"
        await session.commit()
    async with sessions() as session:
        await set_status(session, ids["stellar"], "error", reason="reviewed", actor="admin")
        await session.commit()


async def test_filters_and_search(sessions) -> None:
    ids = await seed(sessions)
    async with sessions() as session:

        async def found(**filters) -> set[str]:
            rows = await list_transactions(session, TransactionFilter(**filters))
            return {row.id for row in rows}

        assert await found() == {ids["anchor"], ids["done"], ids["stellar"], ids["old"]}
        assert await found(status="pending_anchor", asset="USD") == {ids["anchor"], ids["old"]}
        assert await found(kind="withdrawal") == {ids["done"]}
        assert await found(asset="EUR") == {ids["done"]}
        assert await found(account=ids["account"]) == {ids["anchor"]}
        assert await found(search="memo-42") == {ids["anchor"]}
        assert await found(search="ab" * 32) == {ids["done"]}
        assert await found(search="cd" * 32) == {ids["stellar"]}
        assert await found(since=utcnow() - timedelta(days=1), asset="USD") == {
            ids["anchor"],
            ids["stellar"],
        }
        assert await found(until=utcnow() - timedelta(days=1)) == {ids["old"]}
        with pytest.raises(OperatorError, match="status: unknown"):
            await found(status="nope")


# -- the command ---------------------------------------------------------------------------


@pytest.fixture
def run(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    env = {
        "DATABASE_URL": database_url,
        "SIGNING_SEED": SIGNING.secret,
        "SERVER_JWT_KEY": JWT_KEY,
        "LOCAL_MODE": "1",
    }

    def invoke(*args: str):
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)

    return invoke


def seeded(database_url: str) -> dict[str, str]:
    async def work() -> dict[str, str]:
        engine = create_engine(database_url)
        try:
            return await seed(session_factory(engine))
        finally:
            await engine.dispose()

    return asyncio.run(work())


def test_cli_list_show_and_set_status(run, database_url) -> None:
    ids = seeded(database_url)
    listing = run("transactions", "list", "--status", "pending_anchor", "--asset", "USD")
    assert listing.exit_code == 0, listing.output
    assert ids["anchor"] in listing.output and ids["old"] in listing.output
    assert ids["done"] not in listing.output
    assert run("transactions", "list", "--search", "memo-42").output.count("\n") == 1
    empty = run("transactions", "list", "--kind", "deposit-exchange")
    assert "no transactions match" in empty.output

    moved = run("transactions", "set-status", ids["anchor"], "error", "--reason", "bank bounced")
    assert moved.exit_code == 0, moved.output
    assert "pending_anchor -> error" in moved.output

    shown = run("transactions", "show", ids["anchor"])
    assert shown.exit_code == 0, shown.output
    assert "status                   error" in shown.output
    assert "pending_anchor -> error by cli" in shown.output
    assert ": bank bounced" in shown.output
    assert "moves allowed now: none" in shown.output  # error is final


def test_cli_refusals_exit_non_zero(run, database_url) -> None:
    ids = seeded(database_url)
    illegal = run("transactions", "set-status", ids["anchor"], "incomplete", "--reason", "x")
    assert illegal.exit_code != 0
    assert "legal moves from pending_anchor:" in illegal.output
    stuck = run("transactions", "set-status", ids["stellar"], "error", "--reason", "x")
    assert stuck.exit_code != 0
    assert "unresolved on the network" in stuck.output
    no_reason = run("transactions", "set-status", ids["anchor"], "error")
    assert no_reason.exit_code != 0 and "--reason" in no_reason.output
    assert run("transactions", "show", "nope").exit_code != 0
    assert "not a date" in run("transactions", "list", "--since", "yesterday").output
    shown = run("transactions", "show", ids["stellar"])
    assert "moves allowed now: none" in shown.output
