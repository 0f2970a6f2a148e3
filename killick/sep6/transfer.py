"""Starting a deposit or withdrawal: build the transaction, ask the hook, act on its answer.

Shared by ``/deposit`` and ``/withdraw``, their exchange variants (``exchange.py`` gives
the terms), and
``killick.sep6.kyc_resume``, which asks the hook again once the customer's KYC is accepted.
Nothing is written unless the hook answered well: a hook that raises, or answers in a
wrong shape, leaves no row behind.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from killick.columns import utcnow
from killick.errors import APIError
from killick.expiry import deadline_for
from killick.integrations import call_hook
from killick.models import Transaction
from killick.money import MAX_AMOUNT, round_amount
from killick.sep6 import deposit, withdraw
from killick.sep6.directions import Direction
from killick.sep6.exchange import ExchangeTerms
from killick.sep6.fees import fee_for, limit_fields, static_fee_fields
from killick.sep6.hook_answers import (
    Answer,
    CustomerInfoNeeded,
    CustomerInfoStatus,
    HookAnswerError,
    Success,
    read_answer,
)
from killick.sep6.params import TransferRequest
from killick.sep10 import SEP10Token
from killick.settings import Settings
from killick.transactions import Status, apply_hook_status, can_move, transition

log = logging.getLogger(__name__)

HOOK_FAILED = "the anchor could not process this request; try again later"
CUSTOMER_INFO_MESSAGE = (
    "The anchor needs more information about the customer: "
    "send it with SEP-12 (GET /customer?transaction_id=<id>)."
)
_AMOUNT_FIELDS = ("amount_in", "amount_out", "amount_fee", "amount_expected")


def _module(direction: Direction) -> Any:
    """The module with what is particular to deposits or to withdrawals."""
    return deposit if direction.columns == "deposit" else withdraw


def hook_failure() -> APIError:
    """The wallet's answer to an anchor bug: a 500 that says nothing about it."""
    return APIError(500, HOOK_FAILED)


def _check_hook_amounts(txn: Transaction) -> None:
    """Amounts a hook set must be Stellar amounts (Decimal, not float)."""
    for name in _AMOUNT_FIELDS:
        value = getattr(txn, name)
        if value is None:
            continue
        if isinstance(value, float) or not hasattr(value, "is_finite"):
            raise HookAnswerError(f"transaction.{name} must be a Decimal, not {value!r}")
        if not value.is_finite() or value < 0 or value > MAX_AMOUNT:
            raise HookAnswerError(f"transaction.{name} is not a Stellar amount: {value}")
        if value != round_amount(value, 7):
            raise HookAnswerError(f"transaction.{name} has more than 7 decimal places: {value}")


async def ask_hook(
    direction: Direction,
    token: SEP10Token,
    request: Any,
    params: dict[str, Any],
    txn: Transaction,
) -> Answer:
    """Call the direction's ``process_sep6_request`` and read its answer.

    A ValueError from the hook is the anchor refusing the request: 400 with its message.
    Any other failure is logged with the transaction id and answered with a bare 500.
    """
    hook = direction.integration().process_sep6_request
    try:
        answer = await call_hook(hook, token, request, params, txn)
    except ValueError as error:
        raise APIError(400, str(error) or "the anchor refused this request") from None
    except Exception:
        log.exception("%s failed for transaction %s", direction.hook_name(), txn.id)
        raise hook_failure() from None
    try:
        outcome = read_answer(answer)
        _check_hook_amounts(txn)
    except HookAnswerError as error:
        log.error(
            "%s answered wrongly for transaction %s: %s", direction.hook_name(), txn.id, error
        )
        raise hook_failure() from None
    return outcome


async def _fill_amounts(direction: Direction, txn: Transaction) -> None:
    """Fee and amount_out from amount_in, where the hook did not set them."""
    if txn.amount_in is None:
        return
    if txn.amount_fee is None:
        try:
            txn.amount_fee = await fee_for(direction, txn.asset, txn.amount_in, txn.funding_method)
        except ValueError as error:
            raise APIError(400, str(error) or "the anchor refused this amount") from None
        except HookAnswerError as error:
            log.error("fee hook answered wrongly for transaction %s: %s", txn.id, error)
            raise hook_failure() from None
    if txn.amount_out is None:
        txn.amount_out = round_amount(
            txn.amount_in - txn.amount_fee, txn.asset.significant_decimals
        )
    if txn.amount_out < 0:
        raise APIError(400, f"amount: {txn.amount_in} does not cover the fee of {txn.amount_fee}")


async def settle(
    session: AsyncSession,
    settings: Settings,
    direction: Direction,
    txn: Transaction,
    outcome: Answer,
    *,
    previous: str | None,
    now: datetime | None = None,
) -> bool:
    """Apply a hook's outcome to ``txn`` (new when ``previous`` is None): fill in what
    the wallet needs, set the deadline, and move the status. Returns whether it moved.

    A status the hook assigned itself wins when the state machine allows it.
    """
    now = now or utcnow()
    assigned = txn.status
    if isinstance(outcome, Success):
        default = Status.PENDING_USER_TRANSFER_START.value
    else:
        default = Status.PENDING_CUSTOMER_INFO_UPDATE.value
    hook_moved = assigned != previous and can_move(previous, assigned)
    target = assigned if hook_moved else default
    if target == previous:
        txn.status = previous  # type: ignore[assignment]  # ignore an illegal choice
        return False  # e.g. still waiting for KYC
    await _fill_amounts(direction, txn)
    if isinstance(outcome, Success):
        await _module(direction).on_success(session, settings, txn, outcome)
        if txn.message == CUSTOMER_INFO_MESSAGE:
            txn.message = None
    elif txn.message is None:
        txn.message = CUSTOMER_INFO_MESSAGE
    txn.user_action_required_by = await deadline_for(session, settings, txn, target, now)
    reason = _reason(outcome)
    if assigned != previous and apply_hook_status(
        session, txn, previous, hook=direction.hook_name()
    ):
        return True
    transition(session, txn, default, reason=reason, now=now)
    return True


def _reason(outcome: Answer) -> str:
    if isinstance(outcome, CustomerInfoNeeded):
        return "customer info needed: " + ", ".join(outcome.fields)
    if isinstance(outcome, CustomerInfoStatus):
        return f"customer info {outcome.status}"
    return "ready for the user's transfer"


def response_body(direction: Direction, txn: Transaction, outcome: Answer) -> dict[str, Any]:
    """The 200 answer to the wallet (numbers as JSON numbers, CHECKLIST X-06)."""
    body: dict[str, Any] = {"id": txn.id}
    if isinstance(outcome, Success) and txn.status == Status.PENDING_USER_TRANSFER_START:
        body.update(_module(direction).success_fields(txn, outcome))
    if isinstance(outcome, Success) and outcome.eta is not None:
        body["eta"] = outcome.eta
    body.update(limit_fields(direction, txn.asset))
    body.update(static_fee_fields(direction, txn.asset))
    if isinstance(outcome, Success):
        body.update(outcome.overrides)
        if outcome.extra_info is not None:
            body["extra_info"] = outcome.extra_info
    return body


async def start_transfer(
    session: AsyncSession,
    settings: Settings,
    token: SEP10Token,
    request: Any,
    req: TransferRequest,
    exchange: ExchangeTerms | None = None,
) -> dict[str, Any]:
    """Create the transaction for a valid request; returns the 200 body or raises
    APIError (400 refused, 403 customer info in the legacy flow or denied, 500 hook bug).
    The caller's session is committed here, once, with the transaction and its event
    (and, for an exchange at a quote's terms, the quote marked used)."""
    direction = req.direction
    asset = await session.merge(req.asset, load=False)  # this session's copy of the cached one
    txn = _module(direction).new_transaction(token, req, asset)
    params = req.hook_params(asset)
    if exchange is not None:
        exchange.apply(txn)
        params.update(exchange.hook_params(direction))
    outcome = await ask_hook(direction, token, request, params, txn)
    if isinstance(outcome, CustomerInfoStatus) and outcome.status == "denied":
        # Nothing to wait for: no transaction is kept, in either flow (docs/sep6.md).
        raise APIError(403, body=outcome.legacy_body(req.lang))
    if not isinstance(outcome, Success) and settings.SEP6_CUSTOMER_INFO_FLOW == "legacy_403":
        raise APIError(403, body=outcome.legacy_body(req.lang))
    if exchange is not None:
        exchange.keep(txn)
        await exchange.claim(session, txn, utcnow())
    await settle(session, settings, direction, txn, outcome, previous=None)
    session.add(txn)
    await session.commit()
    return response_body(direction, txn, outcome)
