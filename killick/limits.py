"""Request limits, before any route runs: body size, query length, request rates.

* A body larger than ``MAX_BODY_BYTES`` is a 413 (by its Content-Length, or while it
  streams in). SEP-12 (KYC_SERVER) takes uploads and keeps its own caps
  (``SEP12_MAX_BODY_BYTES``, ``SEP12_MAX_UPLOAD_BYTES``, ``killick/sep12/bodies.py``).
* A query string longer than ``MAX_QUERY_BYTES`` is a 414.
* ``/auth``, the SEP-12 ``/customer`` endpoints and the requests that start or change a
  transfer (SEP-6 ``/deposit``, ``/withdraw``, their ``-exchange`` forms and ``PATCH
  /transactions``; SEP-38 ``POST /quote``) are rate limited per client: each request
  counts once against its IP address and, but on ``/auth``, once against the principal
  of its valid SEP-10 token. The counters are fixed windows of
  ``RATE_LIMIT_WINDOW_SECONDS`` kept in the database (one upsert per request), so all
  server processes share them; past the limit the answer is 429 with ``Retry-After``.

Every refusal is JSON ``{"error": ...}``; AllowAnyOrigin (outside) adds the CORS header.
"""

from __future__ import annotations

import json
import logging
import math
import time

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from killick.context import Context
from killick.endpoints import MOUNTS
from killick.sep10.auth import token_issuer
from killick.sep10.token import InvalidToken, SEP10Token

log = logging.getLogger(__name__)

# One statement per request: count this hit in each bucket, starting over in a new window.
_COUNT = (
    "INSERT INTO rate_limit_window (bucket, window_no, hits) VALUES {rows} "
    "ON CONFLICT (bucket) DO UPDATE SET "
    "hits = CASE WHEN rate_limit_window.window_no = excluded.window_no "
    "THEN rate_limit_window.hits + 1 ELSE 1 END, "
    "window_no = excluded.window_no "
    "RETURNING hits"
)
# SEP-6 endpoints that start a transfer (GET and POST forms), below its mount.
_TRANSFER_STARTS = ("deposit", "withdraw", "deposit-exchange", "withdraw-exchange")
_PRUNE = text("DELETE FROM rate_limit_window WHERE window_no < :window")


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` while a body streams past the cap (answered 413 as JSON)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than the {limit} bytes accepted")


async def _answer(send: Send, status: int, error: str, headers: dict[str, str] | None = None):
    body = json.dumps({"error": error}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class RateCounter:
    """Fixed-window counters in the database, shared by every process."""

    def __init__(self, context: Context) -> None:
        self.context = context
        self.window_seconds = context.settings.RATE_LIMIT_WINDOW_SECONDS
        self._pruned_window = 0
        self._statements = {
            count: text(_COUNT.format(rows=", ".join(f"(:b{i}, :window, 1)" for i in range(count))))
            for count in (1, 2)
        }

    async def hit(self, buckets: list[str], now: float) -> tuple[int, float]:
        """Count one request in each bucket: (the highest count, seconds left in window)."""
        window = int(now // self.window_seconds)
        params: dict[str, object] = {"window": window}
        params.update({f"b{i}": bucket[:200] for i, bucket in enumerate(buckets)})
        async with self.context.engine.begin() as connection:
            counts = (await connection.execute(self._statements[len(buckets)], params)).scalars()
            highest = max(counts)
            if self._pruned_window < window:  # once per window and process: drop stale rows
                self._pruned_window = window
                await connection.execute(_PRUNE, {"window": window - 1})
        return highest, (window + 1) * self.window_seconds - now


class Limits:
    """Pure ASGI middleware applying the limits above."""

    def __init__(self, app: ASGIApp, context: Context) -> None:
        self.app = app
        self.context = context
        settings = context.settings
        self.max_body = settings.MAX_BODY_BYTES
        self.max_query = settings.MAX_QUERY_BYTES
        self.kyc_prefix = MOUNTS["sep-12"][0] + "/"
        self.auth_path = MOUNTS["sep-10"][0]
        sep6 = MOUNTS["sep-6"][0]
        self.transfer_paths = {f"{sep6}/{name}" for name in _TRANSFER_STARTS} | {
            f"{MOUNTS['sep-38'][0]}/quote"
        }
        self.transfer_change_prefix = f"{sep6}/transactions/"
        self.rates = {
            "auth": settings.RATE_LIMIT_AUTH,
            "customer": settings.RATE_LIMIT_CUSTOMER,
            "transfer": settings.RATE_LIMIT_TRANSFERS,
        }
        self.counter = RateCounter(context)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if len(scope.get("query_string", b"")) > self.max_query:
            await _answer(send, 414, f"the query string is longer than {self.max_query} bytes")
            return
        path: str = scope["path"]
        group = self._group(path, scope["method"])
        if group is not None and self.rates[group] > 0:
            refused = await self._rate_limited(scope, group)
            if refused is not None:
                await _answer(
                    send,
                    429,
                    f"too many requests: retry after {refused} seconds",
                    {"Retry-After": str(refused)},
                )
                return
        if path.startswith(self.kyc_prefix):  # SEP-12 caps its own bodies (uploads)
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_body:
            await _answer(send, 413, BodyTooLarge(self.max_body).detail)
            return
        await self.app(scope, self._capped(receive), send)

    def _group(self, path: str, method: str) -> str | None:
        if method == "OPTIONS":
            return None
        if path.rstrip("/") == self.auth_path:
            return "auth"
        if path.startswith(self.kyc_prefix + "customer"):
            return "customer"
        if method == "GET" and path.startswith(MOUNTS["sep-38"][0]):
            return None  # GET /quote/{id} reads; POST /quote makes one
        if path.rstrip("/") in self.transfer_paths:
            return "transfer"
        if method == "PATCH" and path.startswith(self.transfer_change_prefix):
            return "transfer"
        return None

    def _capped(self, receive: Receive) -> Receive:
        received = 0
        limit = self.max_body

        async def capped_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        return capped_receive

    async def _rate_limited(self, scope: Scope, group: str) -> int | None:
        """Seconds to wait when this request is over its limit; None when it may pass."""
        client = scope.get("client")
        buckets = [f"{group}:ip:{client[0] if client else 'unknown'}"]
        principal = self._principal(scope) if group != "auth" else None
        if principal is not None:
            buckets.append(f"{group}:sub:{principal}")
        try:
            hits, left = await self.counter.hit(buckets, time.time())
        except (SQLAlchemyError, OSError) as error:  # fail open: the limit is a guard
            log.warning("rate limit not counted (%s)", type(error).__name__)
            return None
        if hits <= self.rates[group]:
            return None
        return max(1, math.ceil(left))

    def _principal(self, scope: Scope) -> str | None:
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, credentials = value.decode("latin-1").partition(" ")
                if scheme.lower() != "bearer":
                    return None
                settings = self.context.settings
                try:
                    token = SEP10Token.decode(
                        credentials.strip(),
                        settings.SERVER_JWT_KEY.get_secret_value(),
                        token_issuer(self.context),
                    )
                except InvalidToken:
                    return None
                return token.principal
        return None


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None
