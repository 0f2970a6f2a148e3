"""An httpx-based async HTTP client for stellar-sdk's ServerAsync.

Use it as `ServerAsync(horizon_url, client=HttpxAsyncClient())`. Unlike stellar-sdk's aiohttp
client it does not reconnect streams by itself: when a stream drops it raises
`stellar_sdk.exceptions.ConnectionError`, and the caller resumes from the last paging token it
processed (which it has to persist anyway).
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from typing import Any

import httpx
from stellar_sdk.client.base_async_client import BaseAsyncClient
from stellar_sdk.client.response import Response
from stellar_sdk.exceptions import ConnectionError, ContentSizeLimitExceededError

from .. import __version__

DEFAULT_TIMEOUT = 20.0
DEFAULT_POST_TIMEOUT = 60.0
DEFAULT_STREAM_READ_TIMEOUT = 60.0
IGNORED_STREAM_DATA = ('"hello"', '"byebye"')


class HttpxAsyncClient(BaseAsyncClient):
    """stellar-sdk async client on one shared `httpx.AsyncClient`.

    :param request_timeout: seconds for GET requests.
    :param post_timeout: seconds for POST requests (Horizon holds a submission until the
        transaction is in a ledger, so this is longer).
    :param stream_read_timeout: seconds without any bytes (records or keep-alives) after which
        a stream counts as dropped.
    :param transport: optional httpx transport, e.g. `httpx.ASGITransport(app)` in tests.
    :param headers: extra headers sent with every request.
    """

    def __init__(
        self,
        request_timeout: float = DEFAULT_TIMEOUT,
        post_timeout: float = DEFAULT_POST_TIMEOUT,
        stream_read_timeout: float = DEFAULT_STREAM_READ_TIMEOUT,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        headers: dict[str, str] | None = None,
        client_name: str = "killick",
    ) -> None:
        self.request_timeout = request_timeout
        self.post_timeout = post_timeout
        self.stream_read_timeout = stream_read_timeout
        self.headers = {
            "X-Client-Name": client_name,
            "X-Client-Version": __version__,
            "User-Agent": f"{client_name}/{__version__} httpx",
            **(headers or {}),
        }
        self._client = httpx.AsyncClient(
            transport=transport,
            headers=self.headers,
            timeout=httpx.Timeout(request_timeout),
            follow_redirects=True,
        )

    async def get(
        self,
        url: str,
        params: dict[str, str] | None = None,
        max_content_size: int | None = None,
    ) -> Response:
        """GET `url`; raises ConnectionError on transport failures."""
        try:
            async with self._client.stream("GET", url, params=params) as response:
                body = await self._read(response, max_content_size)
        except httpx.HTTPError as exc:
            raise ConnectionError(exc) from exc
        return _to_response(response, body)

    async def post(
        self,
        url: str,
        data: dict[str, str] | None = None,
        json_data: dict[str, Any] | None = None,
    ) -> Response:
        """POST a form (`data`) or JSON body; raises ConnectionError on transport failures."""
        try:
            response = await self._client.post(
                url, data=data, json=json_data, timeout=httpx.Timeout(self.post_timeout)
            )
        except httpx.HTTPError as exc:
            raise ConnectionError(exc) from exc
        return _to_response(response, response.content)

    async def stream(
        self, url: str, params: dict[str, str] | None = None
    ) -> AsyncGenerator[dict[str, Any], None]:
        """Yield each SSE record as a dict; raise ConnectionError when the stream ends.

        A non-2xx answer when opening the stream raises the matching stellar-sdk Horizon
        error (NotFoundError, BadRequestError, BadResponseError).
        """
        from stellar_sdk.exceptions import raise_request_exception

        timeout = httpx.Timeout(self.request_timeout, read=self.stream_read_timeout)
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
        try:
            async with self._client.stream(
                "GET", url, params=params, headers=headers, timeout=timeout
            ) as response:
                if not 200 <= response.status_code < 300:
                    body = await response.aread()
                    raise_request_exception(_to_response(response, body))
                async for data in _sse_data(response):
                    if data in IGNORED_STREAM_DATA:
                        continue
                    try:
                        yield json.loads(data)
                    except json.JSONDecodeError:
                        continue
        except httpx.HTTPError as exc:
            raise ConnectionError(f"stream from {url} failed: {exc!r}") from exc
        raise ConnectionError(f"stream from {url} was closed by the server")

    async def close(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> HttpxAsyncClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @staticmethod
    async def _read(response: httpx.Response, max_content_size: int | None) -> bytes:
        if max_content_size is None:
            return await response.aread()
        chunks = []
        total = 0
        async for chunk in response.aiter_bytes():
            total += len(chunk)
            if total > max_content_size:
                raise ContentSizeLimitExceededError(limit=max_content_size, content_size=total)
            chunks.append(chunk)
        return b"".join(chunks)

    def __repr__(self) -> str:
        return (
            f"<HttpxAsyncClient request_timeout={self.request_timeout} "
            f"post_timeout={self.post_timeout} stream_read_timeout={self.stream_read_timeout}>"
        )


def _to_response(response: httpx.Response, body: bytes) -> Response:
    encoding = response.encoding or "utf-8"
    return Response(
        status_code=response.status_code,
        text=body.decode(encoding, errors="replace"),
        headers=dict(response.headers),
        url=str(response.url),
    )


async def _sse_data(response: httpx.Response) -> AsyncGenerator[str, None]:
    """The `data` of each SSE event (multi-line data joined with newlines)."""
    data_lines: list[str] = []
    async for line in response.aiter_lines():
        if line == "":
            if data_lines:
                yield "\n".join(data_lines)
                data_lines = []
            continue
        if line.startswith(":"):
            continue  # comment / keep-alive
        field, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if field == "data":
            data_lines.append(value)
    # An event cut off by the end of the stream is discarded, as the SSE spec says.
