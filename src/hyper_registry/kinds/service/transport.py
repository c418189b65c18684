"""The HTTP side of a health probe: h11 (the HTTP/1.1 protocol library) over asyncio streams.

A probe sends one GET on a fresh connection to the address the SSRF guard validated
(the service's name stays in ``Host`` and in TLS SNI, so certificates are checked
against it), reads the status line and at most ``max_body`` bytes of the body, and
closes. Nothing is pooled or reused, no redirect is followed, and the caller's
``asyncio.timeout`` bounds the whole exchange, so hanging or dripping servers are cut
off. A full HTTP client (connection pools, cancel scopes, cookies, redirects) spent
several times the CPU of the probe itself (measured: docs/services.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from dataclasses import dataclass
from types import TracebackType

import h11

ERRORS: tuple[type[Exception], ...] = (h11.ProtocolError, ssl.SSLError)
READ_CHUNK = 4096
MAX_HEADER_BYTES = 16 * 1024


@dataclass(frozen=True)
class Reply:
    status: int
    location: str
    body_bytes: int


class HttpProber:
    """Sends health-check GETs; one per call, each on its own connection."""

    def __init__(self, ssl_context: ssl.SSLContext) -> None:
        self._ssl = ssl_context

    async def __aenter__(self) -> HttpProber:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Nothing is held between probes."""

    async def get(
        self,
        address: str,
        port: int,
        *,
        tls_name: str | None,
        target: str,
        headers: list[tuple[str, str]],
        max_body: int,
    ) -> Reply:
        """GET ``target`` from ``address:port`` (TLS with SNI ``tls_name`` when given)."""
        reader, writer = await asyncio.open_connection(
            address,
            port,
            ssl=self._ssl if tls_name is not None else None,
            server_hostname=tls_name,
        )
        try:
            conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEADER_BYTES)
            writer.write(conn.send(h11.Request(method="GET", target=target, headers=headers)))
            writer.write(conn.send(h11.EndOfMessage()))
            await writer.drain()
            status: int | None = None
            location = ""
            read = 0
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    conn.receive_data(await reader.read(READ_CHUNK))
                elif isinstance(event, h11.Response):
                    status = event.status_code
                    for name, value in event.headers:
                        if name == b"location":
                            location = value.decode("latin-1")
                elif isinstance(event, h11.Data):
                    read += len(event.data)
                    if read >= max_body:
                        break
                elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                    break
                # informational (1xx) responses are skipped
            if status is None:  # pragma: no cover - h11 raises before this
                raise h11.RemoteProtocolError("no response")
            return Reply(status, location, min(read, max_body))
        finally:
            writer.close()
            with contextlib.suppress(OSError, ssl.SSLError):
                await writer.wait_closed()
