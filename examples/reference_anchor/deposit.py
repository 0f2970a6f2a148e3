"""The SEP-6 guide's ``AnchorDeposit``, with only its imports changed and two slips fixed
(``memo_for_transaction`` was called under another name, and ``user.kyc_rejected`` was
read when ``user`` could be None). It keys users by ``token.principal``, not by
``token.muxed_account or token.stellar_account``, so the memo sub-users of a shared
account stay apart."""

from __future__ import annotations

from typing import Any

from killick.integrations import DepositIntegration
from killick.models import Transaction
from killick.sep10 import SEP10Token

from .rails import calculate_fee, memo_for_transaction
from .store import KYC_FIELDS, user_for_account


class AnchorDeposit(DepositIntegration):
    def process_sep6_request(
        self,
        token: SEP10Token,
        request: Any,
        params: dict[str, Any],
        transaction: Transaction,
        *args: Any,
        **kwargs: Any,
    ) -> dict[str, Any]:
        # check if the user's KYC has been approved
        user = user_for_account(token.principal)
        if not user or not user.kyc_approved:
            if user and user.kyc_rejected:
                return {"type": "customer_info_status", "status": "denied"}
            missing_fields = [field for field in KYC_FIELDS if not getattr(user, field, None)]
            if not missing_fields:
                return {"type": "customer_info_status", "status": "pending"}
            return {"type": "non_interactive_customer_info_needed", "fields": missing_fields}
        # user's KYC has been approved
        transaction.amount_fee = calculate_fee(transaction)
        transaction.amount_out = round(
            transaction.amount_in - transaction.amount_fee,
            transaction.asset.significant_decimals,
        )
        transaction.save()
        user.add_transaction(transaction)
        memo = memo_for_transaction(transaction)
        return {
            "how": (
                "Make a wire transfer to the following account. "
                "Accounting Number: 94922545 ; Routing Number: 628524560. "
                f"Users MUST include the following memo: {memo}"
            ),
            "extra_info": {
                "accounting_number": "94922545",
                "routing_number": "628524560",
                "memo": memo,
            },
        }
