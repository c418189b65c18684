"""Bearer-token authentication and the checks every route makes with the principal.

Every route needs ``Authorization: Bearer <token>`` except ``PUBLIC_PATHS``, which
reveal no entry. A token scoped to namespaces sees nothing else: an entry in another
namespace is answered exactly like a missing one (404, same body).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request
from fastapi.routing import APIRoute
from starlette.responses import Response

from hyper_registry.api.errors import unauthenticated
from hyper_registry.api.params import reject_unknown_query
from hyper_registry.api.state import api_state
from hyper_registry.auth.tokens import Principal, Role
from hyper_registry.core.errors import NotFound
from hyper_registry.core.ref import Ref

PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/openapi.json", "/docs", "/docs/oauth2-redirect"})
MAX_TOKEN_CHARS = 512

SECURITY_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "hr_<id>_<secret>",
    "description": "An API token (`hyper-registry token create`); roles reader, writer, admin.",
}
SCHEME_NAME = "bearerToken"


async def authenticate(request: Request) -> Principal:
    """The caller's principal (401 without a valid token); also refuses unknown query keys.

    One dependency, no sub-dependencies: it runs on every request, so it stays cheap
    (the security scheme is declared in the OpenAPI document by ``app.py``).
    """
    header = request.headers.get("authorization")
    if not header:
        raise unauthenticated("this needs an API token: send 'Authorization: Bearer <token>'")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise unauthenticated(
            "the Authorization header must read 'Bearer <token>'", "invalid_request"
        )
    principal = None
    if len(token) <= MAX_TOKEN_CHARS:
        state = api_state(request)
        principal = state.tokens.cached(token)
        if principal is None:
            principal = await state.read(state.tokens.verify, token)
    if principal is None:
        raise unauthenticated("the token is unknown, malformed or revoked", "invalid_token")
    request.state.principal = principal
    if request.query_params:
        reject_unknown_query(request)
    return principal


def principal_of(request: Request) -> Principal:
    """The principal ``AuthenticatedRoute`` put on the request."""
    principal: Principal = request.state.principal
    return principal


class AuthenticatedRoute(APIRoute):
    """A route that authenticates the caller, then refuses unknown query parameters.

    Done here rather than as a FastAPI dependency: this runs on every request, and a
    wrapper costs a fraction of solving a dependency graph. The OpenAPI document
    declares the bearer scheme on every such route (``app.py``).
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            await authenticate(request)
            return await handler(request)

        return guarded


def not_found(ref: Ref | str) -> NotFound:
    """The one answer for a missing entry and for one the caller may not see."""
    return NotFound(f"{ref} not found")


def require_visible(principal: Principal, ref: Ref) -> None:
    if not principal.sees(ref.namespace):
        raise not_found(ref)


def require_role(principal: Principal, role: Role) -> None:
    principal.require(role)


def require(principal: Principal, role: Role, ref: Ref) -> None:
    """Visibility first (an invisible namespace is 'not found'), then the role (403)."""
    require_visible(principal, ref)
    require_role(principal, role)
