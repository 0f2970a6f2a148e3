"""The admin view's login: a password, a signed session cookie, CSRF tokens.

The cookie is ``<payload>.<signature>`` (HMAC-SHA256) with a key derived from
``SERVER_JWT_KEY`` and ``ADMIN_PASSWORD`` together, so changing either ends every
session. It is HttpOnly, SameSite=Strict, limited to ``/admin`` and Secure when
``HOST_URL`` is https. Each session has a random nonce; its CSRF token (an HMAC of the
nonce) goes in every form and is checked on every POST. The login form, before there is
a session, uses a double-submit cookie instead.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from killick.settings import Settings

SESSION_COOKIE = "killick_admin"
LOGIN_COOKIE = "killick_admin_login"
PATH = "/admin"
MAX_NAME_LENGTH = 40


@dataclass(frozen=True)
class AdminSession:
    name: str
    nonce: str
    expires: int

    @property
    def actor(self) -> str:
        """Recorded on the events this operator causes."""
        return f"admin:{self.name}" if self.name else "admin"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class AdminAuth:
    """Checks the password, issues and reads session cookies, makes and checks CSRF tokens."""

    def __init__(self, settings: Settings) -> None:
        assert settings.ADMIN_PASSWORD is not None
        password = settings.ADMIN_PASSWORD.get_secret_value()
        self._password = hashlib.sha256(password.encode()).digest()
        self._key = hmac.new(
            settings.SERVER_JWT_KEY.get_secret_value().encode(),
            b"killick admin session\x00" + self._password,
            hashlib.sha256,
        ).digest()
        self.lifetime = settings.ADMIN_SESSION_SECONDS
        self.secure = settings.HOST_URL.startswith("https://")

    def _sign(self, data: bytes) -> str:
        return _b64(hmac.new(self._key, data, hashlib.sha256).digest())

    def password_matches(self, offered: str) -> bool:
        digest = hashlib.sha256(offered.encode()).digest()
        return hmac.compare_digest(digest, self._password)

    # -- sessions ---------------------------------------------------------------------------

    def start(self, response: Response, name: str) -> None:
        session = {
            "name": name.strip()[:MAX_NAME_LENGTH],
            "nonce": secrets.token_urlsafe(16),
            "exp": int(time.time()) + self.lifetime,
        }
        payload = _b64(json.dumps(session, separators=(",", ":")).encode())
        self._set(response, SESSION_COOKIE, f"{payload}.{self._sign(payload.encode())}")
        response.delete_cookie(LOGIN_COOKIE, path=PATH)

    def current(self, request: Request) -> AdminSession | None:
        """The valid, unexpired session the request carries, if any."""
        cookie = request.cookies.get(SESSION_COOKIE, "")
        payload, _, signature = cookie.partition(".")
        if not payload or not hmac.compare_digest(signature, self._sign(payload.encode())):
            return None
        try:
            data = json.loads(_unb64(payload))
            session = AdminSession(str(data["name"]), str(data["nonce"]), int(data["exp"]))
        except (ValueError, KeyError, TypeError):
            return None
        return session if session.expires > time.time() else None

    def end(self, response: Response) -> None:
        response.delete_cookie(SESSION_COOKIE, path=PATH)

    # -- CSRF -------------------------------------------------------------------------------

    def csrf_token(self, session: AdminSession) -> str:
        return self._sign(b"csrf\x00" + session.nonce.encode())

    def csrf_ok(self, session: AdminSession, sent: object) -> bool:
        return isinstance(sent, str) and hmac.compare_digest(sent, self.csrf_token(session))

    def login_token(self, request: Request) -> str:
        """The login form's token: the same random value in the form and in a cookie
        (``remember_login_token``)."""
        return request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(16)

    def remember_login_token(self, response: Response, token: str) -> None:
        self._set(response, LOGIN_COOKIE, token, max_age=3600)

    def login_token_ok(self, request: Request, sent: object) -> bool:
        cookie = request.cookies.get(LOGIN_COOKIE, "")
        return bool(cookie) and isinstance(sent, str) and hmac.compare_digest(sent, cookie)

    def _set(self, response: Response, name: str, value: str, max_age: int | None = None) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age or self.lifetime,
            path=PATH,
            httponly=True,
            samesite="strict",
            secure=self.secure,
        )
