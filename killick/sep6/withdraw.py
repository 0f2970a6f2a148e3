"""What is particular to withdrawals: the account and memo the user pays to."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from killick.models import Asset, Transaction
from killick.sep6.hook_answers import Success
from killick.sep6.memos import unique_withdraw_memo
from killick.sep6.params import TransferRequest
from killick.sep6.records import new_transaction as _new
from killick.sep10 import SEP10Token
from killick.settings import Settings


class NoReceivingAccount(RuntimeError):
    """The asset has no distribution account to receive withdrawals."""


def new_transaction(token: SEP10Token, req: TransferRequest, asset: Asset) -> Transaction:
    """``from`` is the account the payment will come from; refunds use ``refund_memo``."""
    return _new(
        token,
        req,
        asset,
        from_address=req.account,
        dest=req.dest,
        dest_extra=req.dest_extra,
        refund_memo=req.refund_memo,
        refund_memo_type=req.refund_memo_type,
    )


async def on_success(
    session: AsyncSession, settings: Settings, txn: Transaction, outcome: Success
) -> None:
    """The receiving account (the asset's distribution account) and a memo of its own,
    given once; the withdrawal is matched to the incoming payment by them."""
    txn.extra_info = outcome.extra_info
    if txn.withdraw_memo is not None:
        return
    account = txn.asset.distribution_account
    if not account:
        raise NoReceivingAccount(f"{txn.asset.code} has no distribution account")
    memo_type = settings.SEP6_WITHDRAW_MEMO_TYPE
    txn.withdraw_anchor_account = account
    txn.withdraw_memo_type = memo_type
    txn.withdraw_memo = await unique_withdraw_memo(session, account, memo_type)


def success_fields(txn: Transaction, outcome: Success) -> dict[str, Any]:
    return {
        "account_id": txn.withdraw_anchor_account,
        "memo_type": txn.withdraw_memo_type,
        "memo": txn.withdraw_memo,
    }
