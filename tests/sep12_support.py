"""A small in-memory ``CustomerIntegration`` for the SEP-12 tests.

It keeps customers by (account, memo), asks for first_name, last_name and email_address,
and accepts a customer once all three are present (unless a test sets a status).
"""

from __future__ import annotations

import uuid
from typing import Any

from stellar_sdk import Keypair

from killick.integrations import CustomerIntegration, CustomerNotFound

REQUIRED = {
    "first_name": {"description": "Given name", "type": "string"},
    "last_name": {"description": "Family name", "type": "string"},
    "email_address": {"description": "Email address", "type": "string"},
}
OPTIONAL = {
    "photo_id_front": {"description": "Front of photo ID", "type": "binary", "optional": True}
}
CONTROL = ("id", "account", "memo", "memo_type", "type", "transaction_id", "lang")
VERIFICATION_CODE = "246810"


def new_account() -> str:
    return Keypair.random().public_key


class MemoryCustomers(CustomerIntegration):
    def __init__(self) -> None:
        self.customers: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.files: dict[str, dict[str, Any]] = {}
        self.status: dict[str, dict[str, Any]] = {}  # customer id -> forced answer

    # helpers for tests
    def called(self, hook: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == hook]

    def _find(self, params: dict[str, Any]) -> dict[str, Any] | None:
        if params.get("id"):
            customer = self.customers.get(params["id"])
            if customer is None:
                raise CustomerNotFound(params["id"])
            return customer
        for customer in self.customers.values():
            if (customer["account"], customer["memo"]) == (params["account"], params["memo"]):
                return customer
        return None

    # the hooks
    def get(self, token, request, params, *args, **kwargs):
        self.calls.append(("get", dict(params)))
        customer = self._find(params)
        if customer is None:
            return {"status": "NEEDS_INFO", "fields": {**REQUIRED, **OPTIONAL}}
        if customer["id"] in self.status:
            return {"id": customer["id"], **self.status[customer["id"]]}
        data = customer["fields"]
        missing = {name: spec for name, spec in REQUIRED.items() if name not in data}
        provided = {
            name: {**spec, "status": "ACCEPTED"} for name, spec in REQUIRED.items() if name in data
        }
        if "mobile_number" in data:
            verified = customer.get("mobile_verified")
            provided["mobile_number"] = {
                "description": "Mobile number",
                "type": "string",
                "status": "ACCEPTED" if verified else "VERIFICATION_REQUIRED",
            }
        done = not missing and customer.get("mobile_verified", True)
        status = "ACCEPTED" if done else "NEEDS_INFO"
        body: dict[str, Any] = {"id": customer["id"], "status": status}
        if status == "NEEDS_INFO":
            body["fields"] = missing
        body["provided_fields"] = provided
        return body

    def put(self, token, request, params, *args, **kwargs):
        self.calls.append(("put", dict(params)))
        if params.get("email_address") == "refuse@example.com":
            raise ValueError("email_address: this address cannot be used")
        customer = self._find(params)
        if customer is None:
            customer = {
                "id": str(uuid.uuid4()),
                "account": params["account"],
                "memo": params["memo"],
                "fields": {},
            }
            self.customers[customer["id"]] = customer
        for name, value in params.items():
            if name not in CONTROL and value is not None:
                customer["fields"][name] = value
        if "mobile_number" in params:
            customer["mobile_verified"] = False
        if params.get("mobile_number_verification") is not None:
            if params["mobile_number_verification"] != VERIFICATION_CODE:
                raise ValueError("The provided confirmation code was invalid.")
            customer["mobile_verified"] = True
        return customer["id"]

    def put_verification(self, token, request, params, *args, **kwargs):
        self.calls.append(("put_verification", dict(params)))
        customer = self._find(params)
        assert customer is not None
        if params.get("mobile_number_verification") != VERIFICATION_CODE:
            raise ValueError("The provided confirmation code was invalid.")
        customer["mobile_verified"] = True
        return self.get(token, request, {"id": customer["id"]})

    def delete(self, token, request, account, memo, memo_type, *args, **kwargs):
        self.calls.append(("delete", {"account": account, "memo": memo}))
        customer = self._find({"account": account, "memo": memo})
        if customer is None:
            raise CustomerNotFound(account)
        del self.customers[customer["id"]]

    def callback(self, token, request, params, *args, **kwargs):
        self.calls.append(("callback", dict(params)))

    def post_file(self, token, request, file, customer_id, *args, **kwargs):
        self.calls.append(("post_file", {"customer_id": customer_id}))
        file_id = f"file_{uuid.uuid4()}"
        self.files[file_id] = {
            "file_id": file_id,
            "content_type": file.content_type,
            "size": file.size,
            "customer_id": customer_id,
            "data": file.data,
        }
        return {k: v for k, v in self.files[file_id].items() if k != "data"}

    def get_files(self, token, request, file_id, customer_id, *args, **kwargs):
        self.calls.append(("get_files", {"file_id": file_id, "customer_id": customer_id}))
        return [
            {k: v for k, v in f.items() if k != "data"}
            for f in self.files.values()
            if (file_id is None or f["file_id"] == file_id)
            and (customer_id is None or f["customer_id"] == customer_id)
        ]
