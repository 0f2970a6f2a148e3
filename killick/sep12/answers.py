"""Checking what the customer integration answers, so no hook mistake reaches a wallet.

Each function returns a clean SEP-12 shape built from the known keys only, or raises
``HookMistake`` saying what is wrong (names and rules, never values) for the log; the
route then answers a bare 500. Rules: CHECKLIST S12-11 to S12-15, S12-23.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from killick.sep12.fields import FIELD_TYPES, FieldCatalog

CUSTOMER_STATUSES = ("ACCEPTED", "PROCESSING", "NEEDS_INFO", "REJECTED")
FIELD_STATUSES = ("ACCEPTED", "PROCESSING", "REJECTED", "VERIFICATION_REQUIRED")
MAX_ID = 64
MAX_FILE_ID = 128


class HookMistake(Exception):
    """The integration answered something SEP-12 does not allow (message: for the log)."""


def customer_id(value: Any, *, what: str = "customer id") -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_ID:
        raise HookMistake(f"{what} must be a non-empty string of at most {MAX_ID} characters")
    return value


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def _field(name: str, spec: Any, *, provided: bool) -> dict[str, Any]:
    where = f"{'provided_fields' if provided else 'fields'}[{name!r}]"
    if not isinstance(spec, Mapping):
        raise HookMistake(f"{where} must be an object")
    if spec.get("type") not in FIELD_TYPES:
        raise HookMistake(f"{where}.type must be one of {', '.join(FIELD_TYPES)}")
    description = spec.get("description")
    if not isinstance(description, str) or not description.strip():
        raise HookMistake(f"{where}.description is required (a non-empty string)")
    clean: dict[str, Any] = {"type": spec["type"], "description": description}
    if spec.get("choices") is not None:
        choices = spec["choices"]
        if not isinstance(choices, list | tuple) or not all(_scalar(c) for c in choices):
            raise HookMistake(f"{where}.choices must be a list of strings or numbers")
        clean["choices"] = list(choices)
    if spec.get("optional") is not None:
        if not isinstance(spec["optional"], bool):
            raise HookMistake(f"{where}.optional must be true or false")
        clean["optional"] = spec["optional"]
    if provided:
        if spec.get("status") is not None:
            if spec["status"] not in FIELD_STATUSES:
                raise HookMistake(f"{where}.status must be one of {', '.join(FIELD_STATUSES)}")
            clean["status"] = spec["status"]
        if spec.get("error") is not None:
            if not isinstance(spec["error"], str):
                raise HookMistake(f"{where}.error must be a string")
            clean["error"] = spec["error"]
    return clean


def _fields(value: Any, catalog: FieldCatalog, *, provided: bool) -> dict[str, Any]:
    key = "provided_fields" if provided else "fields"
    if not isinstance(value, Mapping):
        raise HookMistake(f"{key} must be an object of field names to descriptions")
    clean = {}
    for name, spec in value.items():
        if not isinstance(name, str) or not catalog.knows(name):
            raise HookMistake(
                f"{key} names {name!r}, which wallets cannot send: not a SEP-9 field; "
                "declare it in SEP12_EXTRA_FIELDS"
            )
        clean[name] = _field(name, spec, provided=provided)
    return clean


def customer_body(
    answer: Any, catalog: FieldCatalog, *, expected_id: str | None = None
) -> dict[str, Any]:
    """A ``GET /customer`` body from the ``get`` or ``put_verification`` hook's answer."""
    if not isinstance(answer, Mapping):
        raise HookMistake("the answer must be a dict (the GET /customer body)")
    body: dict[str, Any] = {}
    if answer.get("id") is not None:
        body["id"] = customer_id(answer["id"], what="id")
        if expected_id is not None and body["id"] != expected_id:
            raise HookMistake("answered for another customer id than the one asked for")
    status = answer.get("status")
    if status not in CUSTOMER_STATUSES:
        raise HookMistake(f"status must be one of {', '.join(CUSTOMER_STATUSES)}")
    body["status"] = status
    message = answer.get("message")
    if message is not None:
        if not isinstance(message, str):
            raise HookMistake("message must be a string")
        body["message"] = message
    fields = _fields(answer.get("fields") or {}, catalog, provided=False)
    provided = _fields(answer.get("provided_fields") or {}, catalog, provided=True)
    if status == "NEEDS_INFO":
        redo = ("VERIFICATION_REQUIRED", "REJECTED")
        pending = any(spec.get("status") in redo for spec in provided.values())
        if not fields and not pending:
            raise HookMistake("NEEDS_INFO needs fields (or a provided field to verify or redo)")
        body["fields"] = fields
    elif fields:
        if status == "ACCEPTED" and any(not spec.get("optional") for spec in fields.values()):
            raise HookMistake("ACCEPTED with required fields still missing")
        body["fields"] = fields
    if status == "REJECTED" and not body.get("message"):
        raise HookMistake("REJECTED needs a message saying why")
    if provided:
        body["provided_fields"] = provided
    return body


def _timestamp(value: Any) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise HookMistake("expires_at must be an aware datetime")
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, str):
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise HookMistake("expires_at must be an ISO 8601 time") from None
        return value
    raise HookMistake("expires_at must be a datetime or an ISO 8601 string")


def file_object(answer: Any) -> dict[str, Any]:
    """A file object (``POST /customer/files`` answer, ``GET /customer/files`` item)."""
    if not isinstance(answer, Mapping):
        raise HookMistake("a file must be a dict")
    file_id = answer.get("file_id")
    if not isinstance(file_id, str) or not file_id or len(file_id) > MAX_FILE_ID:
        raise HookMistake(f"file_id must be a non-empty string of at most {MAX_FILE_ID} chars")
    content_type = answer.get("content_type")
    if not isinstance(content_type, str) or not content_type:
        raise HookMistake("content_type must be a non-empty string")
    size = answer.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise HookMistake("size must be a non-negative integer (bytes)")
    clean: dict[str, Any] = {"file_id": file_id, "content_type": content_type, "size": size}
    if answer.get("expires_at") is not None:
        clean["expires_at"] = _timestamp(answer["expires_at"])
    owner = answer.get("customer_id")
    clean["customer_id"] = None if owner is None else customer_id(owner, what="customer_id")
    return clean
