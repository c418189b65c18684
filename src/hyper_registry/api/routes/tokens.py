"""Token management (admin role): create (the plaintext is shown once), list, revoke.

An admin scoped to namespaces manages only tokens within its own namespaces: it
cannot mint a token that sees more than it does, and other tokens are not found.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from pydantic import ValidationError
from starlette.responses import Response

from hyper_registry.api import responses as r
from hyper_registry.api.auth import AuthenticatedRoute, principal_of, require_role
from hyper_registry.api.body import read_payload
from hyper_registry.api.cache import token_id
from hyper_registry.api.schemas import TokenCreate, TokenCreated, TokenList, TokenOut
from hyper_registry.api.state import TOKEN_BODY_BYTES, api_state
from hyper_registry.auth.tokens import ALL, Principal, TokenInfo
from hyper_registry.core.errors import Conflict, Forbidden, Invalid, NotFound
from hyper_registry.core.validation import problems_from

TOKEN_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/TokenCreate"}},
            "application/yaml": {"schema": {"$ref": "#/components/schemas/TokenCreate"}},
        },
    }
}


def _caller_token_id(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    return token_id(header.partition(" ")[2].strip())


def _manages(principal: Principal, info: TokenInfo) -> bool:
    if principal.namespaces is None:
        return True
    return info.namespaces is not None and set(info.namespaces) <= principal.namespaces


def router() -> APIRouter:
    api = APIRouter(
        prefix="/v1/tokens",
        tags=["tokens"],
        route_class=AuthenticatedRoute,
    )

    @api.post(
        "",
        status_code=201,
        responses={
            201: {"model": TokenCreated, "description": "the new token, shown once"},
            **r.problems(400, 403, 413, 415),
        },
        openapi_extra=TOKEN_BODY,
        summary="Create a token",
    )
    async def create(request: Request) -> Response:
        principal = principal_of(request)
        require_role(principal, "admin")
        state = api_state(request)
        raw = await read_payload(request, TOKEN_BODY_BYTES)
        try:
            body = TokenCreate.model_validate(raw)
        except ValidationError as exc:
            raise Invalid("the token request is not valid", problems=problems_from(exc)) from None
        wanted = None if body.namespaces is None or ALL in body.namespaces else body.namespaces
        if principal.namespaces is not None and (
            wanted is None or not set(wanted) <= principal.namespaces
        ):
            raise Forbidden("a token scoped to namespaces can only create tokens within them")
        info, plaintext = await state.write(
            state.registry.tokens.create, body.name, body.role, wanted, created_by=principal.name
        )
        return r.json({**info.to_dict(), "token": plaintext}, 201)

    @api.get(
        "",
        responses={200: {"model": TokenList, "description": "tokens"}, **r.problems(403)},
        summary="List tokens",
    )
    async def list_tokens(request: Request) -> Response:
        principal = principal_of(request)
        require_role(principal, "admin")
        state = api_state(request)
        infos = await state.offload(state.registry.tokens.list)
        items = [i.to_dict() for i in infos if _manages(principal, i)]
        return r.json({"items": items, "nextCursor": None})

    @api.delete(
        "/{token_id}",
        responses={200: {"model": TokenOut, "description": "revoked"}, **r.problems(403, 404, 409)},
        summary="Revoke a token",
    )
    async def revoke(
        request: Request,
        token_id: Annotated[str, Path(pattern=r"^[0-9a-f]{16}$", description="the token's id")],
    ) -> Response:
        principal = principal_of(request)
        require_role(principal, "admin")
        state = api_state(request)
        missing = NotFound(f"token {token_id[:40]!r} not found")
        infos = await state.offload(state.registry.tokens.list)
        target = next((i for i in infos if i.id == token_id), None)
        if target is None or not _manages(principal, target):
            raise missing
        if token_id == _caller_token_id(request):
            raise Conflict(
                "a token cannot revoke itself (that could lock the last admin out); "
                "revoke it with another admin token or the CLI"
            )
        info = await state.write(state.registry.tokens.revoke, token_id, revoked_by=principal.name)
        state.tokens.forget(token_id)
        return r.json(info.to_dict())

    return api
