"""Finding a client domain's SIGNING_KEY (its stellar.toml), with a short timeout.

Answers are cached per domain for a few minutes: a wallet's key rarely changes, and a
challenge request should not cost a fetch each time. The domain comes from whoever asks
for a challenge, so outside ``LOCAL_MODE`` it must resolve to public addresses only and
is fetched at the address that was checked (``killick.callback_targets``), as callbacks
are: a challenge request cannot make the anchor read its own network.
"""

from __future__ import annotations

import asyncio
import time
import tomllib

import httpx
from stellar_sdk import StrKey

from killick.callback_targets import Target, UnsafeTarget, resolve_target

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
            # The timeout bounds the whole fetch: a peer trickling bytes cannot hold the
            # request open, and a body past MAX_TOML_BYTES is cut, never read whole.
            async with asyncio.timeout(self._timeout):
                target = await resolve_target(url, local_mode=self._allow_http)
                content = await self._read(target)
        except UnsafeTarget as error:
            raise ClientDomainError(f"{domain} cannot be used: {error}") from None
        except (httpx.HTTPError, TimeoutError, OSError):
            content = None
        if content is None:
            raise ClientDomainError(f"could not fetch the stellar.toml of {domain}")
        try:
            key = tomllib.loads(content.decode("utf-8", "replace")).get("SIGNING_KEY")
        except tomllib.TOMLDecodeError:
            raise ClientDomainError(f"the stellar.toml of {domain} is not valid TOML") from None
        if not isinstance(key, str) or not StrKey.is_valid_ed25519_public_key(key):
            raise ClientDomainError(f"the stellar.toml of {domain} has no valid SIGNING_KEY")
        return key

    async def _read(self, target: Target) -> bytes | None:
        """The body of a 200 answer, or None (another status, or too large)."""
        assert self._client is not None
        headers = {"Host": target.host_header} if target.host_header else None
        async with self._client.stream(
            "GET", target.request_url, headers=headers, extensions=target.extensions
        ) as response:
            if response.status_code != 200:
                return None
            content = bytearray()
            async for chunk in response.aiter_bytes():
                content.extend(chunk)
                if len(content) > MAX_TOML_BYTES:
                    return None
            return bytes(content)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
