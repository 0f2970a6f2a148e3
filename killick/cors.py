"""CORS for wallets in browsers: ``Access-Control-Allow-Origin: *`` on every answer.

SEP-1, SEP-6 and SEP-10 require the header on every response, errors included, whether
or not the request carried an ``Origin`` (Starlette's CORSMiddleware only answers those
that do). Preflight ``OPTIONS`` requests are answered here, before routing.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_PREFLIGHT_HEADERS = [
    (b"access-control-allow-origin", b"*"),
    (b"access-control-allow-methods", b"GET, POST, PUT, PATCH, DELETE, OPTIONS"),
    (b"access-control-max-age", b"600"),
    (b"content-length", b"0"),
]


class AllowAnyOrigin:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        if scope["method"] == "OPTIONS" and b"access-control-request-method" in headers:
            requested = headers.get(b"access-control-request-headers", b"*")
            await send(
                {
                    "type": "http.response.start",
                    "status": 204,
                    "headers": [*_PREFLIGHT_HEADERS, (b"access-control-allow-headers", requested)],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    (b"access-control-allow-origin", b"*"),
                ]
            await send(message)

        await self.app(scope, receive, send_with_cors)
