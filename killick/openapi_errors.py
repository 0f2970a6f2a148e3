"""Make ``/openapi.json`` tell the truth about errors, so fuzzers and wallet developers
can rely on it.

FastAPI documents a 422 for every validation error; Killick answers 400
``{"error": ...}`` (killick/errors.py). The limits (killick/limits.py) add 413, 414 and
429 before routing, and each SEP answers a missing or bad token its own way (X-04).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from killick.endpoints import MOUNTS

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string"}},
}
_ERROR_REF = {"$ref": "#/components/schemas/Error"}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ERROR_REF}}}


def _sep(path: str) -> str | None:
    for sep, (prefix, _key) in MOUNTS.items():
        if path == prefix or path.startswith(prefix + "/"):
            return sep
    return None


def _errors_for(path: str, method: str, operation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    sep = _sep(path)
    errors = {
        "400": _error("A parameter is missing or wrong"),
        "414": _error("The query string is longer than MAX_QUERY_BYTES"),
    }
    if method in ("post", "put", "patch", "delete"):
        errors["413"] = _error("The body is larger than this anchor accepts")
    if sep == "sep-10":
        errors["403"] = _error("The client_domain is not allowed")
        errors["429"] = _error("Too many requests from this client: see Retry-After")
        errors["503"] = _error("Horizon could not be reached to check the account")
    elif sep == "sep-12":
        errors["401"] = _error("No valid SEP-10 token")
        errors["404"] = _error("No such customer, file or transaction of the caller")
        errors["429"] = _error("Too many requests from this client: see Retry-After")
        errors["501"] = _error("This anchor has no customer integration")
    elif sep == "sep-6" and operation.get("security"):
        errors["404"] = _error("No such transaction of the caller")
    return errors


def true_error_responses(app: FastAPI) -> None:
    """Wrap ``app.openapi`` so the document lists the errors Killick really answers."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = build()
        document.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        for path, item in document.get("paths", {}).items():
            for method, operation in item.items():
                if not isinstance(operation, dict) or "responses" not in operation:
                    continue
                responses = operation["responses"]
                responses.pop("422", None)
                for status, response in _errors_for(path, method, operation).items():
                    responses.setdefault(status, response)
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
