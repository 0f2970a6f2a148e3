"""Request parameters as one flat mapping of strings, from a query string or a body.

``POST /deposit`` and ``POST /withdraw`` take the parameters of their GET twins as a
JSON object or a form (urlencoded or multipart); query parameters are read too, and the
body wins where both give a value.
"""

from __future__ import annotations

import json
from decimal import Decimal

from fastapi import Request

from killick.limits import BodyTooLarge
from killick.sep6.checks import ParamError

_MAX_EXPONENT = 64


def _as_text(name: str, value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        if not isinstance(exponent, int) or abs(exponent) > _MAX_EXPONENT:
            # "1e-999999999" would expand to a gigabyte of digits
            raise ParamError(name, "must be a decimal number, e.g. 100.50")
        return format(value, "f")  # exact: JSON numbers are read as Decimal, never float
    if isinstance(value, int | str):
        return str(value)
    raise ParamError(name, "must be a string")


async def request_values(request: Request) -> dict[str, str]:
    """The query parameters, overlaid with the POST body's."""
    values = dict(request.query_params)
    if request.method != "POST":
        return values
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        raw = await request.body()
        if raw.strip():
            try:
                data = json.loads(raw, parse_float=Decimal)
            except (ValueError, UnicodeDecodeError):
                raise ParamError("request body", "is not valid JSON") from None
            if not isinstance(data, dict):
                raise ParamError("request body", "must be a JSON object")
            for name, value in data.items():
                text = _as_text(name, value)
                if text is not None:
                    values[name] = text
    elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        try:
            form = await request.form()
        except BodyTooLarge:
            raise  # answered 413 by the error handlers
        except Exception:  # malformed multipart: the parser's errors vary by version
            raise ParamError("request body", "is not a valid form") from None
        for name, value in form.items():
            if not isinstance(value, str):
                raise ParamError(name, "must be a text field, not a file")
            values[name] = value
    return values
