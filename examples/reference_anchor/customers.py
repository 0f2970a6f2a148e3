"""SEP-12 for the reference anchor: a customer is ACCEPTED once the guide's six fields
are complete. Values are stored encrypted; ``get`` never echoes them back."""

from __future__ import annotations

from typing import Any

from killick.integrations import CustomerIntegration, CustomerNotFound

from . import store

DESCRIPTIONS = {
    "first_name": ("string", "Given name"),
    "last_name": ("string", "Family name"),
    "email_address": ("string", "Email address"),
    "address": ("string", "Full postal address"),
    "bank_account_number": ("string", "Bank account number"),
    "bank_number": ("string", "Bank routing number"),
}


def _owner(params: dict[str, Any]) -> str:
    memo = params.get("memo")
    return f"{params['account']}:{memo}" if memo else params["account"]


def _field(name: str) -> dict[str, str]:
    kind, description = DESCRIPTIONS[name]
    return {"type": kind, "description": description}


class ReferenceCustomers(CustomerIntegration):
    def get(
        self, token: Any, request: Any, params: dict[str, Any], *args: Any, **kwargs: Any
    ) -> dict[str, Any]:
        if params.get("id"):
            user = store.user_by_id(params["id"])
            if user is None:
                raise CustomerNotFound(params["id"])
        else:
            user = store.user_for_account(_owner(params))
        if user is None:
            return {"status": "NEEDS_INFO", "fields": {n: _field(n) for n in store.KYC_FIELDS}}
        provided = {
            name: {**_field(name), "status": "ACCEPTED"}
            for name in store.KYC_FIELDS
            if user.fields.get(name)
        }
        if user.kyc_rejected:
            return {"id": user.id, "status": "REJECTED", "message": "KYC was rejected"}
        missing = {n: _field(n) for n in store.KYC_FIELDS if not user.fields.get(n)}
        if missing:
            return {
                "id": user.id,
                "status": "NEEDS_INFO",
                "fields": missing,
                "provided_fields": provided,
            }
        return {"id": user.id, "status": "ACCEPTED", "provided_fields": provided}

    def put(
        self, token: Any, request: Any, params: dict[str, Any], *args: Any, **kwargs: Any
    ) -> str:
        if params.get("id") and store.user_by_id(params["id"]) is None:
            raise CustomerNotFound(params["id"])
        updates = {name: str(params[name]) for name in store.KYC_FIELDS if params.get(name)}
        return store.save_fields(_owner(params), updates).id

    def delete(
        self,
        token: Any,
        request: Any,
        account: str,
        memo: str | None,
        memo_type: str | None,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        owner = f"{account}:{memo}" if memo else account
        if not store.delete_user(owner):
            raise CustomerNotFound(owner)
