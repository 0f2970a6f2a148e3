"""Finding a client domain's SIGNING_KEY (its stellar.toml), with a short timeout.

Answers are cached per domain for a few minutes: a wallet's key rarely changes, and a
challenge request should not cost a fetch each time.
"""

from __future__ import annotations

import time
import tomllib

import httpx
from stellar_sdk import StrKey

CACHE_SECONDS = 300.0
MAX_TOML_BYTES = 100 * 1024


class ClientDomainError(Exception):
    """The client domain's stellar.toml could not be read or has no valid SIGNING_KEY."""


class ClientDomainKeys:
    def __init__(self, *, timeout: float, allow_http: bool) -> None:
        self._timeout = timeout
        self._allow_http = allow_http
        self._cache: dict[str, tuple[float, str]] = {}
        self._client: httpx.AsyncClient | None = None

    async def signing_key(self, domain: str) -> str:
        cached = self._cache.get(domain)
        if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        key = await self._fetch(domain)
        self._cache[domain] = (time.monotonic(), key)
        return key

    async def _fetch(self, domain: str) -> str:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._timeout, follow_redirects=False)
        scheme = "http" if self._allow_http else "https"
        url = f"{scheme}://{domain}/.well-known/stellar.toml"
        try:
            response = await self._client.get(url)
        except httpx.HTTPError:
            raise ClientDomainError(f"could not fetch the stellar.toml of {domain}") from None
        if response.status_code != 200 or len(response.content) > MAX_TOML_BYTES:
            raise ClientDomainError(f"could not fetch the stellar.toml of {domain}")
        try:
            key = tomllib.loads(response.text).get("SIGNING_KEY")
        except tomllib.TOMLDecodeError:
            raise ClientDomainError(f"the stellar.toml of {domain} is not valid TOML") from None
        if not isinstance(key, str) or not StrKey.is_valid_ed25519_public_key(key):
            raise ClientDomainError(f"the stellar.toml of {domain} has no valid SIGNING_KEY")
        return key

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
