"""FastAPI dependencies that give a route the caller's ``SEP10Token``.

Each SEP answers a missing or bad token its own way (CHECKLIST X-04): SEP-6 with 403
``{"type": "authentication_required"}``, SEP-12 with 401, SEP-38 with 403.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from killick.context import Context
from killick.errors import APIError
from killick.sep10.token import InvalidToken, SEP10Token

_bearer = HTTPBearer(auto_error=False, description="A SEP-10 session token (JWT)")

Failure = Callable[[str], APIError]


def sep6_failure(_reason: str) -> APIError:
    return APIError(403, body={"type": "authentication_required"})


def sep12_failure(reason: str) -> APIError:
    return APIError(401, reason, headers={"WWW-Authenticate": "Bearer"})


def sep38_failure(reason: str) -> APIError:
    return APIError(403, reason)


def token_issuer(context: Context) -> str:
    return context.settings.HOST_URL + "/auth"


def decode_request_token(
    request: Request, credentials: HTTPAuthorizationCredentials | None
) -> SEP10Token:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise InvalidToken("authentication required: send Authorization: Bearer <SEP-10 token>")
    context: Context = request.app.state.killick
    return SEP10Token.decode(
        credentials.credentials,
        context.settings.SERVER_JWT_KEY.get_secret_value(),
        token_issuer(context),
    )


def require_token(failure: Failure) -> Callable[..., Awaitable[SEP10Token]]:
    """A dependency that demands a valid token and fails the way ``failure`` says."""

    async def dependency(
        request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
    ) -> SEP10Token:
        try:
            return decode_request_token(request, credentials)
        except InvalidToken as error:
            raise failure(str(error)) from None

    return dependency


def optional_token(failure: Failure) -> Callable[..., Awaitable[SEP10Token | None]]:
    """No token is fine (None); a token that is present must be valid."""

    async def dependency(
        request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
    ) -> SEP10Token | None:
        if credentials is None:
            return None
        try:
            return decode_request_token(request, credentials)
        except InvalidToken as error:
            raise failure(str(error)) from None

    return dependency


sep6_token = require_token(sep6_failure)
sep12_token = require_token(sep12_failure)
sep38_token = require_token(sep38_failure)
sep38_optional_token = optional_token(sep38_failure)
