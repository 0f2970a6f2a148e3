"""What every SEP-12 route needs: its context, limits, catalogue, and the checks on the
parameters shared by the endpoints (``id`` ownership, ``type``, ``transaction_id``, ``lang``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from killick.context import Context
from killick.errors import APIError
from killick.models import Transaction
from killick.sep12.bodies import Limits
from killick.sep12.fields import FieldCatalog, field_catalog
from killick.sep12.identity import Identity
from killick.sep12.store import owner_of

MAX_TYPE = 64
_LANG = re.compile(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*")
CUSTOMER_NOT_FOUND = "customer not found for this id"


def context_of(request: Request) -> Context:
    return request.app.state.killick


@lru_cache(maxsize=8)
def _limits(upload_bytes: int, body_bytes: int) -> Limits:
    return Limits(upload_bytes, body_bytes)


def limits_of(context: Context) -> Limits:
    settings = context.settings
    return _limits(settings.SEP12_MAX_UPLOAD_BYTES, settings.SEP12_MAX_BODY_BYTES)


def catalog_of(context: Context) -> FieldCatalog:
    return field_catalog(context.settings.SEP12_EXTRA_FIELDS)


def customer_type(params: Mapping[str, str]) -> str | None:
    value = params.get("type") or None
    if value is not None and (len(value) > MAX_TYPE or not value.isprintable()):
        raise APIError(400, f"type: at most {MAX_TYPE} printable characters")
    return value


def language(params: Mapping[str, str]) -> str:
    value = params.get("lang") or "en"
    if not _LANG.fullmatch(value):
        raise APIError(400, "lang: an ISO 639-1 language code, such as en")
    return value


async def owned_customer(session: AsyncSession, identity: Identity, customer_id: str) -> str:
    """The owner of ``customer_id`` when the caller may reach it; 404 otherwise (the same
    answer for an unknown id and another wallet's, so ids cannot be probed)."""
    owner = await owner_of(session, customer_id)
    if owner is None or not identity.owns(owner):
        raise APIError(404, CUSTOMER_NOT_FOUND)
    return owner


async def check_transaction(
    session: AsyncSession, identity: Identity, params: Mapping[str, str], kind: str | None
) -> str | None:
    """``transaction_id``, when given: needs ``type`` and must be the caller's (S12-07/08)."""
    transaction_id = params.get("transaction_id") or None
    if transaction_id is None:
        return None
    if kind is None:
        raise APIError(400, "type: is required with transaction_id")
    owner = await session.scalar(
        select(Transaction.principal).where(Transaction.id == transaction_id[:36])
    )
    if owner is None or len(transaction_id) > 36 or not identity.owns(owner):
        raise APIError(404, "transaction not found for this account")
    return transaction_id
