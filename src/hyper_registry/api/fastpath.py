"""The two hottest routes without the framework.

- ``GET /v1/entries/{kind}/{ns}/{name}[/versions/{v}]``: reading one entry is what
  clients do most.
- ``POST /v1/entries``: creating one entry, which agents and CI jobs do one document at
  a time.

FastAPI's routing, dependency solving and middleware cost more than the work itself
(measured: about 40 % of a create's CPU on the event loop), so this thin ASGI layer
answers the plain cases directly, with exactly the status, headers and bytes the routed
handler would send (tests compare both):

- a GET with no query string, a bearer token already verified (cached), a visible
  namespace and an entry that exists;
- a POST with no query string, a cached token of the writer role or above, a JSON body
  with its ``Content-Length`` within the document limit, no ``Idempotency-Key``, a
  visible namespace, group commit on, a document that validates and a create that
  commits.

Anything else (no or unknown token, a bad name, a miss, an invisible namespace, a
query string, YAML, an idempotency key, a document the pipeline refuses, a create that
does not commit, any other route) goes on to the full application, so every refusal is
still produced, audited and mapped to problem+json in one place. A POST's body, read
here already, is handed on as it came. A create refused at its commit wrote nothing, so
the application simply tries it again and answers with the refusal it meets (409 for a
version that exists).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hyper_registry.api.body import MAX_DEPTH
from hyper_registry.api.responses import entry_location
from hyper_registry.api.routes.common import body_namespace
from hyper_registry.api.state import ApiState
from hyper_registry.core.errors import HyperRegistryError
from hyper_registry.core.ref import NAME_MAX, NAMESPACE_MAX, Ref, name_problem, version_problem

PREFIX = "/v1/entries/"
CREATE = "/v1/entries"
_JSON = b"application/json"
_WANTED = frozenset({b"authorization", b"content-type", b"content-length", b"idempotency-key"})


class EntryFastPath:
    """Serve plain, authorised reads and creates of one entry; hand the rest to ``app``."""

    def __init__(self, app: ASGIApp, state: ApiState) -> None:
        self.app = app
        self.state = state
        self._kinds = frozenset(state.registry.kinds.names)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["query_string"]:
            method, path = scope["method"], scope["path"]
            if method == "GET" and path.startswith(PREFIX):
                answer = self._answer(scope)
                if answer is not None:
                    body, revision = answer
                    await _send_json(send, 200, body, [(b"etag", f'"{revision}"'.encode())])
                    return
            elif method == "POST" and path == CREATE:
                await self._create(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _create(self, scope: Scope, receive: Receive, send: Send) -> None:
        head = _headers(scope["headers"])
        state = self.state
        limit = state.max_document_bytes
        length = head.get(b"content-length", b"")
        token = _token(head.get(b"authorization"))
        principal = state.tokens.cached(token) if token is not None else None
        if (
            principal is None
            or not principal.at_least("writer")
            or b"idempotency-key" in head
            or head.get(b"content-type", b"").split(b";", 1)[0].strip().lower() != _JSON
            or not length.isdigit()
            or int(length) > limit
            or not state.registry.settings.group_commit
        ):
            await self.app(scope, receive, send)
            return
        messages, body = await _buffer(receive, int(length))
        replay = _replaying(messages, receive)
        if body is None:  # longer than it said, or the client left
            await self.app(scope, replay, send)
            return
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError:
            doc = None
        ns = body_namespace(doc)
        if (
            ns is None
            or not principal.sees(ns)
            or body.count(b"[") + body.count(b"{") > MAX_DEPTH  # the full depth check there
        ):
            await self.app(scope, replay, send)
            return
        try:
            entry = await state.create(doc, principal.name)  # as the routed handler does
        except HyperRegistryError:
            # Refused (invalid, exists...): nothing was written; the application tries
            # again and answers with the refusal, audited and as problem+json.
            await self.app(scope, _replaying(messages, receive), send)
            return
        await _send_json(
            send,
            201,
            orjson.dumps(entry.to_dict()),
            [
                (b"etag", f'"{entry.revision}"'.encode()),
                (b"location", entry_location(entry).encode()),
            ],
        )

    def _answer(self, scope: Scope) -> tuple[bytes, int] | None:
        ref = self._ref(scope["path"])
        if ref is None:
            return None
        token = _bearer(scope["headers"])
        if token is None:
            return None
        principal = self.state.tokens.cached(token)
        if principal is None or not principal.sees(ref.namespace):
            return None
        if not self.state.inline_reads:
            return None  # a networked store reads in the thread pool: the routed path does that
        try:
            entry = self.state.registry.store.get(ref)
        except HyperRegistryError:
            return None
        return orjson.dumps(entry.to_dict()), entry.revision

    def _ref(self, path: str) -> Ref | None:
        parts = path[len(PREFIX) :].split("/")
        if len(parts) == 3:
            kind, namespace, name = parts
            version = None
        elif len(parts) == 5 and parts[3] == "versions":
            kind, namespace, name, _, version = parts
        else:
            return None
        if kind not in self._kinds:
            return None
        if name_problem(namespace, "namespace", NAMESPACE_MAX) or name_problem(
            name, "name", NAME_MAX
        ):
            return None
        if version is not None and version_problem(version):
            return None
        return Ref(kind, namespace, name, version)


def _bearer(headers: Any) -> str | None:
    for key, value in headers:
        if key == b"authorization":
            return _token(value)
    return None


def _headers(raw: Any) -> dict[bytes, bytes]:
    """The request headers the create path looks at (the first of each)."""
    out: dict[bytes, bytes] = {}
    for key, value in raw:
        if key in _WANTED and key not in out:
            out[key] = value
    return out


def _token(value: bytes | None) -> str | None:
    """The token of an ``Authorization: Bearer`` header (None: absent or another scheme)."""
    if value is None:
        return None
    scheme, _, token = value.decode("latin-1").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 512:
        return None
    return token


async def _buffer(receive: Receive, length: int) -> tuple[list[Message], bytes | None]:
    """The request's messages up to the end of its body, and the body (None: not as long
    as ``Content-Length`` said, or the client went away)."""
    messages: list[Message] = []
    chunks: list[bytes] = []
    total = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, None
        chunk = message.get("body", b"")
        total += len(chunk)
        if total > length:
            return messages, None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return messages, b"".join(chunks) if total == length else None


def _replaying(messages: list[Message], receive: Receive) -> Callable[[], Awaitable[Message]]:
    """A ``receive`` that gives ``messages`` again, then whatever comes next."""
    queued = list(messages)

    async def again() -> Message:
        if queued:
            return queued.pop(0)
        return await receive()

    return again


async def _send_json(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-length", str(len(body)).encode()),
                (b"content-type", _JSON),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
