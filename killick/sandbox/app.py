"""The ASGI app: Horizon endpoints, admin endpoints, CORS and the HTTP-level faults."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import problems
from .endpoints import routes as horizon_routes
from .network import SandboxNetwork
from .problems import HorizonProblem
from .records import ledger_json

logger = logging.getLogger(__name__)

ADMIN_PREFIX = "/_sandbox"
ALLOWED_HEADERS = (
    "Content-Type, X-Client-Name, X-Client-Version, X-App-Name, X-App-Version, "
    "Authorization, Accept, Last-Event-ID"
)


def problem_response(problem: HorizonProblem) -> Response:
    return JSONResponse(
        problem.body(),
        status_code=problem.status,
        media_type="application/problem+json; charset=utf-8",
        headers=problem.headers,
    )


async def _on_problem(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HorizonProblem)
    return problem_response(exc)


async def _on_http_exception(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        return problem_response(problems.method_not_allowed())
    if exc.status_code == 404:
        return problem_response(problems.not_found())
    return problem_response(
        HorizonProblem(exc.status_code, "bad_request", "Bad Request", str(exc.detail))
    )


# ----- admin ------------------------------------------------------------------------


async def admin_close(request: Request) -> Response:
    """Close a ledger now (tests and demos use this instead of waiting for the timer)."""
    network: SandboxNetwork = request.app.state.network
    ledger = await network.close_ledger()
    return JSONResponse({"ledger": ledger_json(ledger, str(request.base_url).rstrip("/"))})


async def admin_faults(request: Request) -> Response:
    network: SandboxNetwork = request.app.state.network
    if request.method == "POST":
        try:
            settings = json.loads(await request.body() or b"{}")
            if not isinstance(settings, dict):
                raise ValueError("expected a JSON object")
            network.faults.apply(settings)
        except (ValueError, TypeError, KeyError) as exc:
            return JSONResponse({"error": f"bad fault settings: {exc}"}, status_code=400)
    elif request.method == "DELETE":
        network.faults.reset()
    return JSONResponse(network.faults.describe())


async def admin_fault_reset(request: Request) -> Response:
    network: SandboxNetwork = request.app.state.network
    try:
        network.faults.reset(request.path_params["name"])
    except KeyError:
        return JSONResponse({"error": "unknown fault"}, status_code=404)
    return JSONResponse(network.faults.describe())


async def admin_rates(request: Request) -> Response:
    """Path payment rates: GET lists, POST adds/replaces, DELETE clears."""
    network: SandboxNetwork = request.app.state.network
    if request.method == "POST":
        try:
            body = json.loads(await request.body() or b"{}")
            entries = body.get("rates") if isinstance(body, dict) else None
            if not isinstance(entries, list):
                raise ValueError('expected {"rates": [{"sell", "buy", "price"}, …]}')
            network.rates.load(entries)
        except (ValueError, TypeError, KeyError) as exc:
            return JSONResponse({"error": f"bad rates: {exc}"}, status_code=400)
    elif request.method == "DELETE":
        network.rates.clear()
    return JSONResponse({"rates": network.rates.describe()})


async def admin_limits(request: Request) -> Response:
    """Network limits: GET shows them, POST changes max_ops_per_ledger / queue_ledgers."""
    network: SandboxNetwork = request.app.state.network
    if request.method == "POST":
        try:
            body = json.loads(await request.body() or b"{}")
            if not isinstance(body, dict):
                raise ValueError("expected a JSON object")
            network.set_limits(**body)
        except (ValueError, TypeError) as exc:
            return JSONResponse({"error": f"bad limits: {exc}"}, status_code=400)
    return JSONResponse(network.describe_limits())


admin_routes = [
    Route(f"{ADMIN_PREFIX}/close", admin_close, methods=["POST"]),
    Route(f"{ADMIN_PREFIX}/rates", admin_rates, methods=["GET", "POST", "DELETE"]),
    Route(f"{ADMIN_PREFIX}/limits", admin_limits, methods=["GET", "POST"]),
    Route(f"{ADMIN_PREFIX}/faults", admin_faults, methods=["GET", "POST", "DELETE"]),
    Route(f"{ADMIN_PREFIX}/faults/{{name}}", admin_fault_reset, methods=["DELETE"]),
]


# ----- middleware -------------------------------------------------------------------


class HorizonEdge:
    """Outermost layer: CORS on every answer (errors and crashes too) and 429/503 faults."""

    def __init__(self, app: ASGIApp, network: SandboxNetwork) -> None:
        self.app = app
        self.network = network

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        origin = headers.get("origin", "*")
        if scope["method"] == "OPTIONS":
            await self._preflight(origin, headers, send)
            return
        path: str = scope["path"]
        if not path.startswith(ADMIN_PREFIX):
            faults = self.network.faults
            problem = None
            if faults.unavailable.consume():
                problem = problems.service_unavailable()
            elif faults.rate_limited.consume():
                problem = problems.rate_limit_exceeded()
            if problem is not None:
                await self._send_with_cors(problem_response(problem), scope, receive, send, origin)
                return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + _cors_headers(origin)
            await send(message)

        try:
            await self.app(scope, receive, send_with_cors)
        except Exception:
            logger.exception("unhandled error in sandbox request %s", path)
            raise

    async def _send_with_cors(
        self, response: Response, scope: Scope, receive: Receive, send: Send, origin: str
    ) -> None:
        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + _cors_headers(origin)
            await send(message)

        await response(scope, receive, wrapped)

    async def _preflight(self, origin: str, headers: dict[str, str], send: Send) -> None:
        requested = headers.get("access-control-request-headers")
        response_headers = [
            *_cors_headers(origin),
            (b"access-control-allow-methods", b"GET, POST, PUT, DELETE, OPTIONS"),
            (b"access-control-allow-headers", (requested or ALLOWED_HEADERS).encode()),
            (b"access-control-max-age", b"600"),
            (b"content-length", b"0"),
        ]
        await send({"type": "http.response.start", "status": 204, "headers": response_headers})
        await send({"type": "http.response.body", "body": b""})


def _cors_headers(origin: str) -> list[tuple[bytes, bytes]]:
    return [
        (b"access-control-allow-origin", origin.encode() if origin else b"*"),
        (
            b"access-control-expose-headers",
            b"Date, Latest-Ledger, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining",
        ),
        (b"vary", b"Origin"),
    ]


async def _on_crash(_request: Request, exc: Exception) -> Response:
    logger.exception("sandbox bug", exc_info=exc)
    return problem_response(
        HorizonProblem(
            500,
            "server_error",
            "Internal Server Error",
            "An error occurred while processing this request.",
        )
    )


def create_sandbox_app(network: SandboxNetwork | None = None) -> ASGIApp:
    """Build the Horizon-compatible ASGI app; its lifespan starts the ledger timer."""
    network = network or SandboxNetwork()

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await network.start()
        try:
            yield
        finally:
            await network.stop()

    app = Starlette(
        routes=[*admin_routes, *horizon_routes],
        exception_handlers={
            HorizonProblem: _on_problem,
            HTTPException: _on_http_exception,
            Exception: _on_crash,
        },
        lifespan=lifespan,
    )
    app.state.network = network
    return HorizonEdge(app, network)
