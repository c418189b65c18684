"""Bearer-token authentication and the checks every route makes with the principal.

Every route needs ``Authorization: Bearer <token>`` except ``PUBLIC_PATHS``, which
reveal no entry. A token scoped to namespaces sees nothing else: an entry in another
namespace is answered exactly like a missing one (404, same body).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hyper_registry.api.errors import unauthenticated
from hyper_registry.api.state import api_state
from hyper_registry.auth.tokens import Principal, Role
from hyper_registry.core.errors import NotFound
from hyper_registry.core.ref import Ref

PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/openapi.json", "/docs", "/docs/oauth2-redirect"})
MAX_TOKEN_CHARS = 512

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearerToken",
    bearerFormat="hr_<id>_<secret>",
    description="An API token (`hyper-registry token create`); roles reader, writer, admin.",
)


async def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
) -> Principal:
    if credentials is None:
        if request.headers.get("authorization"):
            raise unauthenticated(
                "the Authorization header must read 'Bearer <token>'", "invalid_request"
            )
        raise unauthenticated("this needs an API token: send 'Authorization: Bearer <token>'")
    token = credentials.credentials
    principal = None
    if len(token) <= MAX_TOKEN_CHARS:
        state = api_state(request)
        principal = state.tokens.cached(token)
        if principal is None:
            principal = await state.read(state.tokens.verify, token)
    if principal is None:
        raise unauthenticated("the token is unknown, malformed or revoked", "invalid_token")
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(authenticate)]


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
