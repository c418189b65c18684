"""An httpx transport that opens one fresh connection per request, and no pool.

Health checks never reuse a connection (each one connects to the address the SSRF
guard validated, and a reused connection would carry another name's TLS session), so
a pool only costs: httpcore's pool scans every connection for every request, which is
quadratic in the checks in flight (measured: most of a checker's CPU at 200 in flight).
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator

import httpcore
import httpx

ERRORS: tuple[type[Exception], ...] = (
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.TimeoutException,
    httpcore.UnsupportedProtocol,
    httpcore.ConnectionNotAvailable,
)


class _Body(httpx.AsyncByteStream):
    def __init__(self, response: httpcore.Response, connection: httpcore.AsyncHTTPConnection):
        self._response = response
        self._connection = connection

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._response.aiter_stream():
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._response.aclose()
        finally:
            await self._connection.aclose()


class OneShotTransport(httpx.AsyncBaseTransport):
    """Each request gets its own connection, closed with the response."""

    def __init__(self, ssl_context: ssl.SSLContext) -> None:
        self._ssl = ssl_context
        # asyncio only: naming the backend skips httpcore's per-call library detection
        self._backend = httpcore.AnyIOBackend()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        url = request.url
        port = url.port or (443 if url.scheme == "https" else 80)
        origin = httpcore.Origin(url.raw_scheme, url.raw_host, port)
        connection = httpcore.AsyncHTTPConnection(
            origin, ssl_context=self._ssl, network_backend=self._backend
        )
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=url.raw_scheme, host=url.raw_host, port=port, target=url.raw_path
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        try:
            response = await connection.handle_async_request(core_request)
        except BaseException:
            await connection.aclose()
            raise
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_Body(response, connection),
            extensions=response.extensions,
        )
