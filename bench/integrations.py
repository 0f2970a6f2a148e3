"""The bench's INTEGRATIONS module (``INTEGRATIONS=bench.integrations``).

* ``GET /bench/floor``: a constant JSON answer served by the same app, middleware and
  server as every SEP route: the floor each API scenario is compared with.
* A trivial deposit hook (success, nothing else), so ``GET /sep6/deposit`` measures
  Killick's own work: parsing, the transaction, its event, the commit.
* A rails hook whose ``poll_pending_deposits`` says every deposit's funds arrived, so
  the worker's rails loop (or the bench's stand-in for it) moves them on at once.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter

from killick.integrations import DepositIntegration, RailsIntegration, register_integrations

FLOOR: dict[str, Any] = {"floor": True, "service": "killick-bench"}
DEPOSIT_ANSWER: dict[str, Any] = {"how": "Bench transfer", "extra_info": {"message": "bench"}}

router = APIRouter(tags=["bench"], include_in_schema=False)


@router.get("/bench/floor")
async def floor() -> dict[str, Any]:
    return FLOOR


class BenchDeposit(DepositIntegration):
    """A plain (sync) method, as the SEP-6 guide's anchors write it: Killick runs it in
    its thread pool, and that hop is part of what the deposit scenario measures."""

    def process_sep6_request(self, token, request, params, transaction, *args, **kwargs):  # type: ignore[no-untyped-def]
        return DEPOSIT_ANSWER


class BenchRails(RailsIntegration):
    def poll_pending_deposits(self, pending_deposits, *args, **kwargs):  # type: ignore[no-untyped-def]
        for deposit in pending_deposits:
            if deposit.amount_in is None:
                deposit.amount_in = Decimal("1")
                deposit.amount_fee = Decimal("0")
                deposit.amount_out = Decimal("1")
        return list(pending_deposits)


register_integrations(routers=[router], deposit=BenchDeposit(), rails=BenchRails())
