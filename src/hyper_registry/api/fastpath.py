"""The hottest route without the framework: ``GET /v1/entries/{kind}/{ns}/{name}[/versions/{v}]``.

Reading one entry is what clients do most. FastAPI's routing, dependency solving and
middleware cost more than the read itself, so this thin ASGI layer answers the plain
case directly: a GET with no query string, a bearer token already verified (cached),
a visible namespace and an entry that exists. It answers with exactly the bytes the
routed handler would send (a test compares both).

Anything else (no or unknown token, a bad name, a miss, an invisible namespace, a
query string, any other route) goes on to the full application unchanged, so every
refusal is still produced, audited and mapped to problem+json in one place.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from hyper_registry.api.state import ApiState
from hyper_registry.core.errors import HyperRegistryError
from hyper_registry.core.ref import NAME_MAX, NAMESPACE_MAX, Ref, name_problem, version_problem

PREFIX = "/v1/entries/"
_JSON = b"application/json"


class EntryReadFastPath:
    """Serve plain, authorised GETs of one entry; hand everything else to ``app``."""

    def __init__(self, app: ASGIApp, state: ApiState) -> None:
        self.app = app
        self.state = state
        self._kinds = frozenset(state.registry.kinds.names)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or scope["query_string"]
            or not scope["path"].startswith(PREFIX)
        ):
            await self.app(scope, receive, send)
            return
        answer = self._answer(scope)
        if answer is None:
            await self.app(scope, receive, send)
            return
        body, revision = answer
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-length", str(len(body)).encode()),
                    (b"content-type", _JSON),
                    (b"etag", f'"{revision}"'.encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

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
            text: str = value.decode("latin-1")
            scheme, _, token = text.partition(" ")
            token = token.strip()
            if scheme.lower() != "bearer" or not token or len(token) > 512:
                return None
            return token
    return None
