"""The KYC gate every transaction request of the reference anchor passes."""

from __future__ import annotations

from typing import Any

from .store import KYC_FIELDS, User


def customer_info_answer(user: User | None) -> dict[str, Any] | None:
    """The SEP-6 answer for a user who may not transact yet, or None when approved.

    The deposit hook keeps the SEP-6 guide's own inline version of this, on purpose: it
    is the guide's example, ported with its imports changed.
    """
    if user and user.kyc_approved:
        return None
    if user and user.kyc_rejected:
        return {"type": "customer_info_status", "status": "denied"}
    missing = [field for field in KYC_FIELDS if not getattr(user, field, None)]
    if not missing:
        return {"type": "customer_info_status", "status": "pending"}
    return {"type": "non_interactive_customer_info_needed", "fields": missing}
