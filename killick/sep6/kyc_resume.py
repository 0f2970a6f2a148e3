"""Picking SEP-6 transactions up again once the customer's KYC is accepted (SEP-6 4.x).

SEP-12 calls ``resume_after_kyc`` when a customer becomes ACCEPTED. Each of that
principal's transactions waiting for customer information is put to its deposit or
withdrawal hook again, with the parameters rebuilt from the transaction's columns, and
the answer applied: success moves it to ``pending_user_transfer_start`` (instructions,
or the receiving account and memo); an answer that still needs information leaves it
where it is.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from killick.errors import APIError
from killick.models import Transaction
from killick.sep6.directions import (
    DEPOSIT,
    DEPOSIT_EXCHANGE,
    WITHDRAW,
    WITHDRAW_EXCHANGE,
    Direction,
)
from killick.sep6.exchange import stored_exchange_params
from killick.sep6.hook_answers import CustomerInfoStatus, Success
from killick.sep6.params import TransferRequest
from killick.sep6.transfer import ask_hook, settle
from killick.sep10 import SEP10Token
from killick.settings import Settings, load_settings
from killick.transactions import Status, transition

log = logging.getLogger(__name__)

WAITING_FOR_KYC = (Status.PENDING_CUSTOMER_INFO_UPDATE.value, Status.INCOMPLETE.value)
_DIRECTIONS = {d.kind: d for d in (DEPOSIT, WITHDRAW, DEPOSIT_EXCHANGE, WITHDRAW_EXCHANGE)}


def token_for(txn: Transaction) -> SEP10Token:
    """The identity that created ``txn``, for hooks that read ``token`` (no JWT exists
    here: the wallet is not on the line)."""
    now = datetime.now(UTC)
    return SEP10Token(
        account=txn.stellar_account,
        memo=txn.account_memo,
        muxed_account=txn.muxed_account,
        client_domain=txn.client_domain,
        issued_at=now,
        expires_at=now,
    )


def stored_request(txn: Transaction, direction: Direction) -> TransferRequest:
    """The request that created ``txn``, from its columns (values that have no column,
    such as ``email_address`` or custom /info fields, are not kept)."""
    return TransferRequest(
        direction=direction,
        asset=txn.asset,
        account=(txn.to_address if txn.is_deposit else txn.from_address) or txn.stellar_account,
        lang=txn.lang or "en",
        funding_method=txn.funding_method,
        amount=txn.amount_expected,
        memo=txn.deposit_memo,
        memo_type=txn.deposit_memo_type,
        on_change_callback=txn.on_change_callback,
        country_code=txn.country_code,
        claimable_balance_supported=txn.claimable_balance_supported,
        customer_id=txn.customer_id,
        location_id=txn.location_id,
        wallet_name=txn.wallet_name,
        wallet_url=txn.wallet_url,
        dest=txn.dest,
        dest_extra=txn.dest_extra,
        refund_memo=txn.refund_memo,
        refund_memo_type=txn.refund_memo_type,
    )


async def _resume_one(
    session: AsyncSession, settings: Settings, txn: Transaction, request: Any
) -> bool:
    direction = _DIRECTIONS[txn.kind]
    params = stored_request(txn, direction).hook_params()
    if direction.exchange:
        params.update(stored_exchange_params(txn))
    previous = txn.status
    try:
        outcome = await ask_hook(direction, token_for(txn), request, params, txn)
    except APIError as error:
        txn.status = previous  # whatever the hook assigned before failing
        if error.status_code == 400:  # the anchor refuses it now: say so, for good
            transition(session, txn, Status.ERROR, reason="refused on resume", message=str(error))
            return True
        return False  # the hook's bug, already logged: the transaction waits
    if not isinstance(outcome, Success):
        txn.status = previous  # only a success may move it; a hook's own choice too
    if isinstance(outcome, CustomerInfoStatus) and outcome.status == "denied":
        transition(
            session,
            txn,
            Status.ERROR,
            reason="customer denied",
            message="The anchor declined this transaction.",
        )
        return True
    if not isinstance(outcome, Success):
        return False  # still needs information, or KYC pending: it keeps waiting
    try:
        return await settle(session, settings, direction, txn, outcome, previous=previous)
    except Exception:
        log.exception("resuming transaction %s failed; it keeps waiting", txn.id)
        txn.status = previous
        return False


async def resume_after_kyc(
    session: AsyncSession,
    principal: str,
    *,
    request: Any = None,
    settings: Settings | None = None,
) -> list[str]:
    """Ask the hook again for each of ``principal``'s SEP-6 transactions that wait for
    customer information; returns the ids that moved. The caller commits.

    ``settings`` defaults to the app's (from ``request``), else to the environment's.
    """
    if settings is None:
        settings = request.app.state.killick.settings if request is not None else load_settings()
    waiting = (
        await session.scalars(
            select(Transaction)
            .where(
                Transaction.principal == principal,
                Transaction.protocol == "sep6",
                Transaction.kind.in_(tuple(_DIRECTIONS)),
                Transaction.status.in_(WAITING_FOR_KYC),
            )
            .order_by(Transaction.started_at)
            .with_for_update(of=Transaction)
        )
    ).all()
    moved = []
    for txn in waiting:
        if await _resume_one(session, settings, txn, request):
            moved.append(txn.id)
    return moved
