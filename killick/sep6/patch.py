"""``PATCH /transactions/{id}``: the wallet corrects fields the anchor asked about.

Only in ``pending_transaction_info_update``, only the fields ``required_info_updates``
names (CHECKLIST S6-45). The deposit or withdrawal hook's ``patch_transaction`` checks
and stores them; then the transaction goes back to ``pending_anchor``.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from killick.errors import APIError
from killick.integrations import call_hook, registry
from killick.models import Transaction
from killick.sep6 import checks
from killick.sep6.checks import ParamError
from killick.sep6.listing import find_one
from killick.sep10 import SEP10Token
from killick.transactions import Status, transition

log = logging.getLogger(__name__)


def requested_fields(txn: Transaction) -> dict[str, dict[str, Any]]:
    """The fields the anchor asked for, in /info ``fields`` form. SEP-6's example nests
    them under ``transaction``; a flat object is read the same way."""
    updates = txn.required_info_updates or {}
    nested = updates.get("transaction")
    fields = nested if isinstance(nested, dict) else updates
    return {name: spec if isinstance(spec, dict) else {} for name, spec in fields.items()}


def _values(body: object, wanted: dict[str, dict[str, Any]]) -> dict[str, str]:
    if not isinstance(body, dict) or not isinstance(body.get("transaction"), dict):
        raise ParamError("transaction", 'send {"transaction": {"<field>": "<value>", ...}}')
    given: dict[str, Any] = body["transaction"]
    unexpected = sorted(set(given) - set(wanted))
    if unexpected:
        raise ParamError(unexpected[0], "is not a field this transaction asks to update")
    values: dict[str, str] = {}
    for name, spec in wanted.items():
        value = given.get(name)
        if value is None or value == "":
            if not spec.get("optional", False):
                raise ParamError(name, "is required (see required_info_updates)")
            continue
        if not isinstance(value, str):
            raise ParamError(name, "must be a string")
        checks.text(name, value)
        if spec.get("choices") and value not in spec["choices"]:
            raise ParamError(name, f"must be one of {', '.join(spec['choices'])}")
        values[name] = value
    return values


async def patch_transaction(
    session: AsyncSession, token: SEP10Token, request: Any, txn_id: str, body: object
) -> Transaction:
    """Apply the wallet's update; 404 unknown (or not the caller's), 400 otherwise."""
    txn = await find_one(session, token.principal, id=txn_id, for_update=True)
    if txn is None:
        raise APIError(404, "transaction not found")
    if txn.status != Status.PENDING_TRANSACTION_INFO_UPDATE:
        raise APIError(400, f"transaction {txn.id} is not waiting for updates (it is {txn.status})")
    values = _values(body, requested_fields(txn))
    integration = registry.deposit if txn.is_deposit else registry.withdrawal
    previous = txn.status
    try:
        await call_hook(integration.patch_transaction, token, request, values, txn)
    except ValueError as error:
        raise APIError(400, str(error) or "the anchor refused this update") from None
    except Exception:
        log.exception("patch_transaction failed for transaction %s", txn.id)
        raise APIError(500, "the anchor could not process this update; try again later") from None
    if txn.status != previous:
        log.error("patch_transaction set a status on %s; Killick decides it here", txn.id)
        txn.status = previous
    txn.required_info_updates = None
    txn.required_info_message = None
    transition(session, txn, Status.PENDING_ANCHOR, reason="transaction info updated")
    await session.commit()
    return txn
