"""The state machine: legal moves only, and an outbox event with every change."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from killick.models import Event, Transaction
from killick.transactions import (
    MOVES,
    TERMINAL,
    IllegalTransition,
    Status,
    apply_hook_status,
    can_move,
    record_change,
    transition,
)
from tests.test_models import make_asset, make_transaction


def test_every_status_has_its_moves_and_terminals_have_none() -> None:
    assert set(MOVES) == set(Status)
    for status in TERMINAL:
        assert MOVES[status] == frozenset()
    assert not can_move("completed", "refunded")
    assert not can_move("pending_anchor", "no_such_status")
    assert not can_move("no_such_status", "completed")


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        (
            [
                "pending_user_transfer_start",
                "pending_external",
                "pending_anchor",
                "pending_stellar",
                "completed",
            ],
            "deposit",
        ),
        (
            [
                "pending_customer_info_update",
                "pending_user_transfer_start",
                "pending_anchor",
                "pending_trust",
                "pending_stellar",
                "completed",
            ],
            "deposit",
        ),
        (
            ["pending_user_transfer_start", "pending_anchor", "pending_external", "completed"],
            "withdrawal",
        ),
        (["incomplete", "expired"], "deposit"),
    ],
)
def test_the_spec_paths_are_legal(path: list[str], kind: str) -> None:
    current = None
    for status in path:
        assert can_move(current, status), f"{current} -> {status}"
        current = status


async def test_transition_records_an_event_with_the_transaction_json(
    session: AsyncSession,
) -> None:
    asset = await make_asset(session)
    txn = make_transaction(asset, status=None, on_change_callback="https://wallet.example/cb")
    session.add(txn)
    transition(session, txn, "pending_user_transfer_start", reason="created")
    transition(session, txn, "pending_anchor", reason="funds arrived")
    await session.commit()
    events = (await session.scalars(select(Event).order_by(Event.id))).all()
    assert [(e.from_status, e.to_status) for e in events] == [
        (None, "pending_user_transfer_start"),
        ("pending_user_transfer_start", "pending_anchor"),
    ]
    assert events[1].payload["transaction"]["status"] == "pending_anchor"
    assert events[1].payload["transaction"]["id"] == txn.id
    assert events[1].callback_url == "https://wallet.example/cb"
    assert events[1].next_attempt_at is not None


async def test_a_change_that_keeps_the_status_is_recorded_too(session: AsyncSession) -> None:
    asset = await make_asset(session)
    txn = make_transaction(
        asset, kind="withdrawal", status="too_small", on_change_callback="https://w.example/cb"
    )
    session.add(txn)
    txn.refunded = True
    before = txn.updated_at
    record_change(session, txn, reason="refunded 5 in abc")
    await session.commit()
    [event] = (await session.scalars(select(Event))).all()
    assert (event.from_status, event.to_status, event.reason) == (
        "too_small",
        "too_small",
        "refunded 5 in abc",
    )
    assert event.payload["transaction"]["refunded"] is True
    assert event.callback_url == "https://w.example/cb" and event.next_attempt_at is not None
    assert txn.status == "too_small" and txn.updated_at >= before


async def test_completed_sets_completed_at(session: AsyncSession) -> None:
    asset = await make_asset(session)
    txn = make_transaction(asset, status="pending_stellar")
    session.add(txn)
    transition(session, txn, "completed")
    assert txn.completed_at is not None


async def test_illegal_move_raises_and_changes_nothing(session: AsyncSession) -> None:
    asset = await make_asset(session)
    txn = make_transaction(asset, status="completed")
    session.add(txn)
    await session.commit()
    with pytest.raises(IllegalTransition):
        transition(session, txn, "pending_anchor")
    assert txn.status == "completed"
    await session.commit()
    assert (await session.scalars(select(Event))).all() == []


async def test_rolled_back_transition_leaves_no_event(sessions) -> None:
    async with sessions() as session:
        asset = await make_asset(session)
        txn = make_transaction(asset, status="pending_anchor")
        session.add(txn)
        await session.commit()
        txn_id = txn.id
        transition(session, txn, "pending_stellar")
        await session.rollback()
    async with sessions() as session:
        assert (await session.scalars(select(Event))).all() == []
        loaded = await session.get(Transaction, txn_id)
        assert loaded is not None and loaded.status == "pending_anchor"


async def test_status_set_by_a_hook_goes_through_the_machine(session: AsyncSession) -> None:
    asset = await make_asset(session)
    txn = make_transaction(asset, status="pending_anchor")
    session.add(txn)
    txn.status = "pending_stellar"  # what a hook does
    assert apply_hook_status(session, txn, "pending_anchor", hook="test hook")
    assert txn.status == "pending_stellar"
    txn.status = "incomplete"  # illegal from pending_stellar
    assert not apply_hook_status(session, txn, "pending_stellar", hook="test hook")
    assert txn.status == "pending_stellar"
    await session.commit()
    events = (await session.scalars(select(Event))).all()
    assert [e.to_status for e in events] == ["pending_stellar"]
    assert events[0].actor == "test hook"
