"""Withdrawals: KYC-gated like deposits; Killick adds the receiving account and memo."""

from __future__ import annotations

from typing import Any

from killick.integrations import WithdrawalIntegration
from killick.models import Transaction
from killick.sep10 import SEP10Token

from .store import KYC_FIELDS, user_for_account


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
        if not user or not user.kyc_approved:
            if user and user.kyc_rejected:
                return {"type": "customer_info_status", "status": "denied"}
            missing = [field for field in KYC_FIELDS if not getattr(user, field, None)]
            if not missing:
                return {"type": "customer_info_status", "status": "pending"}
            return {"type": "non_interactive_customer_info_needed", "fields": missing}
        account = user.bank_account_number or ""
        return {
            "extra_info": {
                "message": f"The funds will be sent to the bank account ending {account[-4:]}."
            }
        }
