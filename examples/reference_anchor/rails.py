"""Fees, memos and the simulated bank behind the reference anchor.

Deposits' funds "arrive" when the wallet or an operator says so (``python -m
examples.reference_anchor arrive <id>`` or ``POST /reference/bank/deposits/<id>/arrive``,
both only in LOCAL_MODE). Withdrawals are "sent" at once and confirmed a few seconds
later.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from killick.integrations import RailsIntegration
from killick.models import Transaction
from killick.money import round_amount

from . import store

log = logging.getLogger(__name__)

PAYOUT_CONFIRMATION_SECONDS = 2.0
FEE_FIXED = Decimal("1")
FEE_PERCENT = Decimal("0.5")


def calculate_fee(transaction: Transaction) -> Decimal:
    """1 unit plus 0.5% of the amount, rounded to the asset's decimals."""
    amount = transaction.amount_in or Decimal(0)
    fee = FEE_FIXED + amount * FEE_PERCENT / 100
    return round_amount(fee, transaction.asset.significant_decimals)


def memo_for_transaction(transaction: Transaction) -> str:
    """The reference the user writes on the bank transfer (the guide's wire memo)."""
    return transaction.id.split("-")[0].upper()


class SimulatedBank(RailsIntegration):
    def poll_pending_deposits(
        self, pending_deposits: list[Transaction], *args: Any, **kwargs: Any
    ) -> list[Transaction]:
        arrived = store.arrived_deposits([d.id for d in pending_deposits])
        ready = []
        for deposit in pending_deposits:
            if deposit.id not in arrived:
                continue
            amount = arrived[deposit.id]
            if amount is not None and amount != deposit.amount_in:
                deposit.amount_in = amount
                deposit.amount_fee = calculate_fee(deposit)
                deposit.amount_out = round_amount(
                    amount - deposit.amount_fee, deposit.asset.significant_decimals
                )
            ready.append(deposit)
        return ready

    def execute_outgoing_transaction(
        self, transaction: Transaction, idempotency_key: str, *args: Any, **kwargs: Any
    ) -> None:
        amount = transaction.amount_out or transaction.amount_in or Decimal(0)
        store.send_payout(idempotency_key, amount)
        log.info("bank payout of %s sent for %s", amount, transaction.id)

    def poll_outgoing_transactions(
        self, transactions: list[Transaction], *args: Any, **kwargs: Any
    ) -> list[Transaction]:
        confirmed = store.confirmed_payouts(
            [t.id for t in transactions], PAYOUT_CONFIRMATION_SECONDS
        )
        return [t for t in transactions if t.id in confirmed]
