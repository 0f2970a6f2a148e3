"""What is particular to deposits: the destination, and the instructions for the user."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from killick.models import Asset, Transaction
from killick.sep6.hook_answers import Success
from killick.sep6.params import TransferRequest
from killick.sep6.records import new_transaction as _new
from killick.sep10 import SEP10Token
from killick.settings import Settings


def new_transaction(token: SEP10Token, req: TransferRequest, asset: Asset) -> Transaction:
    """``to`` is where the asset will be paid; ``deposit_memo`` goes on that payment."""
    return _new(
        token,
        req,
        asset,
        to_address=req.account,
        deposit_memo=req.memo,
        deposit_memo_type=req.memo_type,
        claimable_balance_supported=req.claimable_balance_supported,
    )


async def on_success(
    session: AsyncSession, settings: Settings, txn: Transaction, outcome: Success
) -> None:
    """Keep the hook's instructions: /transaction shows them from now on (P-16)."""
    txn.how = outcome.how
    txn.instructions = outcome.instructions
    txn.extra_info = outcome.extra_info


def success_fields(txn: Transaction, outcome: Success) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if txn.how is not None:
        fields["how"] = txn.how
    if txn.instructions is not None:
        fields["instructions"] = txn.instructions
    return fields
