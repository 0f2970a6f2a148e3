"""A small HTTP endpoint for the simulated bank (served only in LOCAL_MODE): the wallet
or an operator says a deposit's bank transfer arrived."""

from __future__ import annotations

from decimal import Decimal

from fastapi import APIRouter, Request

from killick.errors import APIError
from killick.money import AmountError, parse_amount

from . import store

router = APIRouter(prefix="/reference/bank", tags=["Reference anchor (LOCAL_MODE only)"])


@router.post("/deposits/{transaction_id}/arrive")
async def deposit_arrived(request: Request, transaction_id: str, amount: str | None = None) -> dict:
    """Pretend the user's bank transfer for this deposit arrived (optionally another amount)."""
    if not request.app.state.killick.settings.LOCAL_MODE:
        raise APIError(404, "Not Found")
    value: Decimal | None = None
    if amount is not None:
        try:
            value = parse_amount(amount)
        except AmountError as error:
            raise APIError(400, f"amount: {error}") from None
    store.mark_deposit_arrived(transaction_id, value)
    return {"transaction_id": transaction_id, "arrived": True}
