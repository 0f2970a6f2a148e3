"""Calling the rails hooks in pages: leased keyset pages, and reading what a hook returned.

A backlog of 100,000 transactions is walked ``RAILS_PAGE_SIZE`` rows at a time, by id
(keyset, never OFFSET), each page in its own session so memory stays flat. Each page is
leased, so two workers never hand the same transactions to a hook at once; before acting
on a hook's answer the lease is asserted again, so a page whose lease ran out while the
hook was slow is left to whoever took it over.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from killick.context import Context
from killick.integrations import RailsIntegration, call_hook, registry
from killick.models import Transaction
from killick.money import MAX_AMOUNT, round_amount
from killick.workers.leases import claim_ids, release

log = logging.getLogger(__name__)

AMOUNTS = ("amount_in", "amount_fee", "amount_out")


class AmountProblem(ValueError):
    """A hook left amounts Killick cannot use (the message says which and why)."""


async def claim_page(
    session: AsyncSession,
    *,
    conditions: Sequence[Any],
    after: str | None,
    owner: str,
    now: datetime,
    lease: timedelta,
    limit: int,
) -> list[Transaction]:
    """Lease the next ``limit`` free transactions after id ``after``, in id order."""
    keyset = [Transaction.id > after] if after is not None else []
    ids = await claim_ids(
        session,
        Transaction.id,
        Transaction.claimed_by,
        Transaction.claimed_until,
        conditions=[*conditions, *keyset],
        owner=owner,
        now=now,
        lease=lease,
        limit=limit,
        order_by=[Transaction.id],
    )
    if not ids:
        return []
    rows = await session.scalars(
        select(Transaction)
        .where(Transaction.id.in_(ids), Transaction.claimed_by == owner)
        .order_by(Transaction.id)
        .execution_options(populate_existing=True)
    )
    return list(rows.unique().all())


async def leased_pages(
    context: Context,
    *,
    conditions: Sequence[Any],
    owner: str,
    clock: Callable[[], datetime],
    lease: timedelta,
    limit: int,
) -> AsyncIterator[tuple[AsyncSession, list[Transaction]]]:
    """One sweep: each leased page after the last, with the session it was read in.

    Only an empty page ends the sweep (another worker may have leased part of a page,
    making it short). Use it under ``contextlib.aclosing`` so that leaving early closes
    the page's session at once.
    """
    after: str | None = None
    while True:
        async with context.sessions() as session:
            page = await claim_page(
                session,
                conditions=conditions,
                after=after,
                owner=owner,
                now=clock(),
                lease=lease,
                limit=limit,
            )
            if not page:
                return
            after = page[-1].id
            yield session, page


async def still_leased(
    session: AsyncSession,
    transactions: Iterable[Transaction],
    *,
    owner: str,
    statuses: Sequence[str],
    until: datetime,
) -> set[str]:
    """Renew the lease of those still ours and still in ``statuses``; their ids.

    On PostgreSQL the rows stay locked until the caller commits, so nobody else can
    claim them in between. Nothing is flushed: the hook's changes are checked first.
    """
    ids = [t.id for t in transactions]
    if not ids:
        return set()
    statement = (
        update(Transaction)
        .where(
            Transaction.id.in_(ids),
            Transaction.claimed_by == owner,
            Transaction.status.in_(statuses),
        )
        .values(claimed_until=until)
        .returning(Transaction.id)
        .execution_options(synchronize_session=False)
    )
    with session.no_autoflush:  # what the hook changed is not checked yet: keep it unsaved
        result = await session.execute(statement)
    return set(result.scalars().all())


def rails_hook_implemented(name: str) -> bool:
    """Whether the anchor's RailsIntegration overrides hook ``name`` (else Killick leaves
    those transactions alone rather than hand them to a default that does nothing)."""
    return getattr(type(registry.rails), name) is not getattr(RailsIntegration, name)


def returned_of(page: Sequence[Transaction], answer: Any, hook: str) -> list[Transaction]:
    """The transactions of ``page`` that ``hook`` returned, each once, in page order.

    Anything else it returned (another object, a transaction of an earlier poll, a
    dict) is logged as the anchor's mistake and ignored: a hook can only move what it
    was given.
    """
    if answer is None:
        return []
    if isinstance(answer, str | bytes | dict) or not isinstance(answer, Iterable):
        log.error("%s returned %s, not a list of the transactions given", hook, type(answer))
        return []
    given = {id(txn): txn for txn in page}
    chosen: set[str] = set()
    for item in answer:
        txn = given.get(id(item))
        if txn is None:
            what = getattr(item, "id", type(item).__name__)
            log.error(
                "%s returned %s, which is not one of the transactions given; ignored", hook, what
            )
            continue
        chosen.add(txn.id)
    return [txn for txn in page if txn.id in chosen]


def snapshot(txn: Transaction) -> dict[str, Any]:
    """What a hook may change that Killick checks afterwards."""
    return {"status": txn.status, **{name: getattr(txn, name) for name in AMOUNTS}}


def restore(txn: Transaction, before: dict[str, Any]) -> None:
    for name, value in before.items():
        setattr(txn, name, value)


def hook_amount(value: Any, decimals: int, name: str) -> Decimal:
    """An amount a hook set, as a Decimal at the asset's decimals, the precision wallets
    see: rounded half up, except ``amount_out``, rounded down so that what is paid and
    shown is never more than the hook said."""
    if isinstance(value, bool | float) or not isinstance(value, Decimal | int | str):
        raise AmountProblem(f"{name} must be a Decimal, not {value!r}")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise AmountProblem(f"{name} is not a number: {value!r}") from None
    if not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT:
        raise AmountProblem(f"{name} is not a Stellar amount: {value}")
    if name == "amount_out":
        return amount.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_DOWN)
    return round_amount(amount, decimals)


def normalise_amounts(txn: Transaction, before: dict[str, Any]) -> set[str]:
    """Round the amounts a hook changed (or set as a non-Decimal); the names changed."""
    decimals = txn.asset.significant_decimals
    changed = set()
    for name in AMOUNTS:
        value = getattr(txn, name)
        if value is None:
            if before[name] is not None:
                changed.add(name)
            continue
        if value != before[name] or not isinstance(value, Decimal):
            setattr(txn, name, hook_amount(value, decimals, name))
            if getattr(txn, name) != before[name]:
                changed.add(name)
    return changed


async def ask_about_page(
    session: AsyncSession,
    hook: Callable[..., Any],
    name: str,
    page: list[Transaction],
    *,
    noun: str,
    then: str,
) -> tuple[dict[str, dict[str, Any]], set[str]] | None:
    """Hand a leased page to a rails poll hook.

    Returns what each transaction was before the call (to check or undo what the hook
    changed) and the ids the hook returned. When the hook raises, the page is put back as
    it was, released and committed, the failure logged (``then`` says what happens next),
    and None returned: the caller ends its sweep.
    """
    before = {txn.id: snapshot(txn) for txn in page}
    try:
        answer = await call_hook(hook, list(page))
    except Exception:
        log.exception(
            "%s failed for %d %s(s) (%s .. %s); %s",
            name,
            len(page),
            noun,
            page[0].id,
            page[-1].id,
            then,
        )
        for txn in page:
            restore(txn, before[txn.id])
        release(page)
        await session.commit()
        return None
    return before, {txn.id for txn in returned_of(page, answer, name)}
