"""What a ``process_sep6_request`` hook may answer, read into one of three outcomes.

The shapes are django-polaris' (the SEP-6 guide): a success dict, or
``{"type": "non_interactive_customer_info_needed", "fields": [...]}``, or
``{"type": "customer_info_status", "status": "pending" | "denied"}``. Anything else is
the anchor's bug: ``HookAnswerError`` says what was wrong, for the log, never the wallet.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from killick.integrations.calls import HookAnswerError
from killick.money import as_json_number


@dataclass(frozen=True)
class Success:
    """Ready for the user's funds; deposit instructions when the hook knows them."""

    how: str | None = None
    instructions: dict[str, Any] | None = None
    eta: int | None = None
    extra_info: dict[str, Any] | None = None
    # min_amount, max_amount, fee_fixed, fee_percent the hook wants shown instead of ours
    overrides: dict[str, int | float] = field(default_factory=dict)


@dataclass(frozen=True)
class CustomerInfoNeeded:
    """SEP-12 fields the anchor still needs before it can take the user's funds."""

    fields: tuple[str, ...]

    def legacy_body(self, lang: str) -> dict[str, Any]:
        return {"type": "non_interactive_customer_info_needed", "fields": list(self.fields)}


@dataclass(frozen=True)
class CustomerInfoStatus:
    """KYC submitted and under review (``pending``) or refused (``denied``)."""

    status: str
    more_info_url: str | None = None
    eta: int | None = None

    def legacy_body(self, lang: str) -> dict[str, Any]:
        body: dict[str, Any] = {"type": "customer_info_status", "status": self.status}
        if self.more_info_url:
            body["more_info_url"] = with_lang(self.more_info_url, lang)
        if self.eta is not None:
            body["eta"] = self.eta
        return body


Answer = Success | CustomerInfoNeeded | CustomerInfoStatus

_SUCCESS_KEYS = {"how", "instructions", "eta", "extra_info"}
_NUMBER_KEYS = {"min_amount", "max_amount", "fee_fixed", "fee_percent"}


def with_lang(url: str, lang: str) -> str:
    """``more_info_url`` with the wallet's ``lang`` added, as SEP-6 asks."""
    parts = urlsplit(url)
    query = f"{parts.query}&" if parts.query else ""
    return urlunsplit(parts._replace(query=query + urlencode({"lang": lang})))


def _eta(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise HookAnswerError(f"eta must be a whole number of seconds, not {value!r}")
    return value


def _json_object(name: str, value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise HookAnswerError(f"{name} must be a dict, not {type(value).__name__}")
    try:
        json.dumps(value)
    except (TypeError, ValueError) as error:
        raise HookAnswerError(f"{name} is not JSON: {error}") from None
    return value


def _instructions(value: object) -> dict[str, Any]:
    instructions = _json_object("instructions", value)
    for key, entry in instructions.items():
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("value"), str)
            or not isinstance(entry.get("description", ""), str)
            or set(entry) - {"value", "description"}
        ):
            raise HookAnswerError(
                f"instructions[{key!r}] must be {{'value': str, 'description': str}}"
            )
    return instructions


def _success(answer: dict[str, Any]) -> Success:
    unknown = set(answer) - _SUCCESS_KEYS - _NUMBER_KEYS
    if unknown:
        raise HookAnswerError(f"unknown keys in a success answer: {sorted(unknown)}")
    how = answer.get("how")
    if how is not None and not isinstance(how, str):
        raise HookAnswerError("how must be a str")
    overrides: dict[str, int | float] = {}
    for key in _NUMBER_KEYS & set(answer):
        value = answer[key]
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            raise HookAnswerError(f"{key} must be a number")
        number = Decimal(str(value))
        if not number.is_finite() or number < 0:
            raise HookAnswerError(f"{key} must be a non-negative number")
        overrides[key] = as_json_number(number)  # type: ignore[assignment]
    return Success(
        how=how,
        instructions=_instructions(answer["instructions"])
        if answer.get("instructions") is not None
        else None,
        eta=_eta(answer["eta"]) if answer.get("eta") is not None else None,
        extra_info=_json_object("extra_info", answer["extra_info"])
        if answer.get("extra_info") is not None
        else None,
        overrides=overrides,
    )


def read_answer(answer: object) -> Answer:
    """The outcome a ``process_sep6_request`` answer stands for; HookAnswerError if none."""
    if not isinstance(answer, dict):
        raise HookAnswerError(f"the answer must be a dict, not {type(answer).__name__}")
    kind = answer.get("type")
    if kind is None:
        return _success(answer)
    if kind == "non_interactive_customer_info_needed":
        fields = answer.get("fields")
        if (
            not isinstance(fields, list | tuple)
            or not fields
            or not all(isinstance(f, str) and f for f in fields)
        ):
            raise HookAnswerError("fields must be a non-empty list of SEP-9 field names")
        if set(answer) - {"type", "fields"}:
            raise HookAnswerError(f"unknown keys: {sorted(set(answer) - {'type', 'fields'})}")
        return CustomerInfoNeeded(fields=tuple(fields))
    if kind == "customer_info_status":
        status = answer.get("status")
        if status not in ("pending", "denied"):
            raise HookAnswerError(f"customer_info_status must be pending or denied: {status!r}")
        url = answer.get("more_info_url")
        if url is not None and not isinstance(url, str):
            raise HookAnswerError("more_info_url must be a str")
        unknown = set(answer) - {"type", "status", "more_info_url", "eta"}
        if unknown:
            raise HookAnswerError(f"unknown keys: {sorted(unknown)}")
        eta = _eta(answer["eta"]) if answer.get("eta") is not None else None
        return CustomerInfoStatus(status=status, more_info_url=url, eta=eta)
    raise HookAnswerError(f"unknown answer type {kind!r}")
