"""Withdrawals: KYC-gated like deposits; Killick adds the receiving account and memo."""

from __future__ import annotations

from typing import Any

from killick.integrations import WithdrawalIntegration
from killick.models import Transaction
from killick.sep10 import SEP10Token

from .kyc import customer_info_answer
from .store import user_for_account


class AnchorWithdraw(WithdrawalIntegration):
    def process_sep6_request(
        self,
        token: SEP10Token,
        request: Any,
        params: dict[str, Any],
        transaction: Transaction,
        *args: Any,
        **kwargs: Any,
    ) -> dict[str, Any]:
        user = user_for_account(token.principal)
        blocked = customer_info_answer(user)
        if blocked is not None:
            return blocked
        assert user is not None
        account = user.bank_account_number or ""
        return {
            "extra_info": {
                "message": f"The funds will be sent to the bank account ending {account[-4:]}."
            }
        }
