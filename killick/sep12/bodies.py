"""Reading SEP-12 request bodies: JSON, form-encoded and multipart, all the same way.

SEP-12 endpoints accept the three encodings (CHECKLIST S12-03, P-18); binary parts come
last in multipart bodies but any order is accepted. Bodies are streamed: the whole body
is capped at ``SEP12_MAX_BODY_BYTES`` while it arrives (file parts spill to disk past
1 MB, never held whole in memory while parsing), and each file at
``SEP12_MAX_UPLOAD_BYTES``; either limit answers 413. Query parameters are merged with
the body; a name given twice is a 400. Errors never echo a value.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import UploadFile
from starlette.formparsers import FormParser, MultiPartException, MultiPartParser
from starlette.requests import Request

from killick.errors import APIError
from killick.sep12.fields import shown

TEXT_PART_LIMIT = 64 * 1024  # one text value; an address fits many times over
MAX_FIELDS = 200
MAX_FILES = 16
ENCODINGS = "multipart/form-data, application/x-www-form-urlencoded or application/json"


@dataclass(frozen=True)
class UploadedFile:
    """A file the wallet sent, as the integration receives it. Its bytes stay out of
    ``repr`` (and so out of logs)."""

    field: str
    name: str | None
    content_type: str
    data: bytes = field(repr=False)

    @property
    def filename(self) -> str | None:
        return self.name

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True)
class Body:
    """A request's parameters: text values and files, by name."""

    text: dict[str, str]
    files: dict[str, UploadedFile]


@dataclass(frozen=True)
class Limits:
    upload_bytes: int
    body_bytes: int


class _BodyTooLarge(Exception):
    pass


def too_large(what: str, limit: int) -> APIError:
    return APIError(413, f"{what} is larger than the {limit} bytes this anchor accepts")


async def _capped(request: Request, limit: int) -> AsyncIterator[bytes]:
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise _BodyTooLarge
        yield chunk


def _content_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _add(params: dict[str, Any], name: str, value: Any) -> None:
    if name in params:
        raise APIError(400, f"{shown(name)} was given more than once")
    params[name] = value


def _json_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in pairs:
        _add(result, name, value)
    return result


def _json_text(data: dict[str, Any]) -> dict[str, str]:
    text: dict[str, str] = {}
    for name, value in data.items():
        if value is None:
            continue
        if not isinstance(value, str):  # numbers arrive as text (parse_int/parse_float)
            raise APIError(400, f"{shown(name)} must be a string or a number")
        text[name] = value
    return text


async def _read_json(request: Request, limits: Limits) -> dict[str, str]:
    chunks = bytearray()
    async for chunk in _capped(request, min(limits.body_bytes, MAX_FIELDS * TEXT_PART_LIMIT)):
        chunks.extend(chunk)
    if not chunks.strip():
        return {}
    try:
        data = json.loads(
            bytes(chunks), object_pairs_hook=_json_pairs, parse_float=str, parse_int=str
        )
    except (ValueError, RecursionError):
        raise APIError(400, "the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise APIError(400, "the JSON body must be an object of field names to values")
    return _json_text(data)


async def _read_form(request: Request, limits: Limits, *, multipart: bool) -> Body:
    stream = _capped(request, limits.body_bytes)
    if multipart:
        parser: Any = MultiPartParser(
            request.headers,
            stream,
            max_files=MAX_FILES,
            max_fields=MAX_FIELDS,
            max_part_size=TEXT_PART_LIMIT,
        )
    else:
        parser = FormParser(
            request.headers, stream, max_fields=MAX_FIELDS, max_part_size=TEXT_PART_LIMIT
        )
    try:
        form = await parser.parse()
    except MultiPartException as error:
        raise APIError(400, f"malformed {_content_type(request)} body: {error.message}") from None
    text: dict[str, str] = {}
    files: dict[str, UploadedFile] = {}
    seen: dict[str, Any] = {}
    try:
        for name, value in form.multi_items():
            _add(seen, name, value)
        for name, value in seen.items():
            if isinstance(value, UploadFile):
                if (value.size or 0) > limits.upload_bytes:
                    raise too_large(f"the file {shown(name)}", limits.upload_bytes)
                files[name] = UploadedFile(
                    field=name,
                    name=value.filename,
                    content_type=value.content_type or "application/octet-stream",
                    data=await value.read(),
                )
            else:
                text[name] = value
    finally:
        await form.close()
    return Body(text, files)


async def read_body(request: Request, limits: Limits) -> Body:
    """The request's parameters, from its query string and its body (any SEP-12 encoding).

    Raises APIError: 413 past a size limit, 400 for a malformed body, an unknown content
    type or a parameter given twice.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limits.body_bytes:
        raise too_large("the request body", limits.body_bytes)
    kind = _content_type(request)
    try:
        if kind == "application/json":
            body = Body(await _read_json(request, limits), {})
        elif kind in ("multipart/form-data", "application/x-www-form-urlencoded"):
            body = await _read_form(request, limits, multipart=kind == "multipart/form-data")
        else:
            if await _has_body(request, limits):
                raise APIError(400, f"unsupported content type: send {ENCODINGS}")
            body = Body({}, {})
    except _BodyTooLarge:
        raise too_large("the request body", limits.body_bytes) from None
    return Body(merge_query(request, body.text, files=body.files), body.files)


async def _has_body(request: Request, limits: Limits) -> bool:
    async for chunk in _capped(request, limits.body_bytes):
        if chunk:
            return True
    return False


def merge_query(
    request: Request, text: dict[str, str], *, files: dict[str, UploadedFile] | None = None
) -> dict[str, str]:
    """``text`` plus the query parameters; a name in both (or twice) is a 400."""
    params = dict(text)
    seen_in_query: set[str] = set()
    for name, value in request.query_params.multi_items():
        if name in seen_in_query or name in params or (files and name in files):
            raise APIError(400, f"{shown(name)} was given more than once")
        seen_in_query.add(name)
        params[name] = value
    return params


def query_params(request: Request) -> dict[str, str]:
    """The query parameters of a GET (no body); a name given twice is a 400."""
    return merge_query(request, {})
