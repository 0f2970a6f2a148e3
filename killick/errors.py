"""Error answers: always JSON, never a traceback.

Routes raise ``APIError`` (or FastAPI's HTTPException); both become ``{"error": ...}``
unless a SEP defines its own body (SEP-6's 403 ``{"type": "authentication_required"}``).
Anything unexpected is logged with its traceback and answered with a bare 500.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)


class APIError(Exception):
    """An answer to the client other than success: a status and a JSON body."""

    def __init__(
        self,
        status_code: int,
        error: str | None = None,
        *,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(error or str(body))
        self.status_code = status_code
        self.body = body if body is not None else {"error": error}
        self.headers = headers


def bad_request(error: str) -> APIError:
    return APIError(400, error)


def _describe(error: RequestValidationError) -> str:
    problems = []
    for item in error.errors():
        location = [str(p) for p in item.get("loc", ()) if p not in ("query", "body", "path")]
        name = ".".join(location) or "request"
        message = str(item.get("msg", "invalid")).removeprefix("Value error, ")
        if item.get("type") == "missing":
            message = "is required"
        problems.append(f"{name}: {message}")
    return "; ".join(problems) or "invalid request"


async def _api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, APIError)
    return JSONResponse(exc.body, status_code=exc.status_code, headers=exc.headers)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else "request refused"
    return JSONResponse({"error": detail}, status_code=exc.status_code, headers=exc.headers)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse({"error": _describe(exc)}, status_code=400)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"error": "internal server error"}, status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(APIError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
