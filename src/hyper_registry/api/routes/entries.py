"""One entry: read, create, replace, delete; its versions and its relations.

- ``GET  /v1/entries/{kind}/{ns}/{name}``: the latest version.
- ``PUT  /v1/entries/{kind}/{ns}/{name}``: create or replace the version the body names;
  the body's kind, namespace and name must match the path.
- ``DELETE /v1/entries/{kind}/{ns}/{name}``: refused (400): deleting "whatever is latest"
  races with writers; name the version.
- ``GET|PUT|DELETE /v1/entries/{kind}/{ns}/{name}/versions/{version}``: one version
  (GET also accepts an alias; PUT's body must name the same version; DELETE needs the
  exact version, not an alias).
- ``POST /v1/entries``: create only (409 when that version exists).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from hyper_registry.api import responses as r
from hyper_registry.api.auth import (
    AuthenticatedRoute,
    not_found,
    principal_of,
    require,
    require_role,
)
from hyper_registry.api.body import read_payload
from hyper_registry.api.errors import ApiProblem
from hyper_registry.api.params import (
    KindPath,
    NamePath,
    NamespacePath,
    VersionPath,
    entry_ref,
    idempotency_key,
    path_parameters,
    preconditions,
)
from hyper_registry.api.routes.common import (
    body_namespace,
    body_ref_hint,
    get_entry,
    note_ref,
    put_document,
    require_agreement,
)
from hyper_registry.api.schemas import RelationList, VersionList
from hyper_registry.api.state import api_state
from hyper_registry.auth.tokens import Principal
from hyper_registry.core.envelope import Entry
from hyper_registry.core.errors import Invalid, NotFound
from hyper_registry.core.ref import Ref
from hyper_registry.core.registry import Registry
from hyper_registry.store.base import RelationView

IF_MATCH_PATTERN = r'^(\*|(W/)?"[0-9]{1,18}"|[0-9]{1,18})$'
DOCUMENT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/Document"}},
            "application/yaml": {"schema": {"$ref": "#/components/schemas/Document"}},
        },
    }
}
WRITE_HEADERS = {
    "parameters": [
        {
            "name": "If-Match",
            "in": "header",
            "required": False,
            "description": 'the revision the write expects, as an ETag ("3"), or * (must exist)',
            "schema": {"type": "string", "pattern": IF_MATCH_PATTERN},
        },
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "description": "a retry with the same key and body replays the first answer",
            "schema": {"type": "string", "pattern": r"^[\x21-\x7e]{1,200}$"},
        },
    ]
}


def _entry_response(entry: Entry, outcome: str) -> Response:
    created = outcome == "created"
    return r.entry_response(entry, 201 if created else 200, location=created)


def router() -> APIRouter:
    api = APIRouter(
        prefix="/v1/entries",
        tags=["entries"],
        route_class=AuthenticatedRoute,
    )
    entry_out = {"model": Entry, "headers": r.ENTRY_HEADERS, "description": "the entry"}

    async def _get(request: Request, principal: Principal, ref: Ref) -> Response:
        require(principal, "reader", ref)
        state = api_state(request)
        entry = await state.read(get_entry, state.registry, ref)
        return r.entry_response(entry)

    # The two hottest routes read their path parameters themselves (see path_parameters).
    @api.get(
        "/{kind}/{namespace}/{name}",
        responses={200: entry_out, **r.problems(404)},
        openapi_extra={"parameters": path_parameters("kind", "namespace", "name")},
        summary="Read the latest version",
    )
    async def get_latest(request: Request) -> Response:
        p = request.path_params
        ref = entry_ref(api_state(request), p["kind"], p["namespace"], p["name"])
        return await _get(request, principal_of(request), ref)

    @api.get(
        "/{kind}/{namespace}/{name}/versions/{version}",
        responses={200: entry_out, **r.problems(404)},
        openapi_extra={"parameters": path_parameters("kind", "namespace", "name", "version")},
        summary="Read one version (or alias)",
    )
    async def get_version(request: Request) -> Response:
        p = request.path_params
        ref = entry_ref(api_state(request), p["kind"], p["namespace"], p["name"], p["version"])
        return await _get(request, principal_of(request), ref)

    async def _put(request: Request, principal: Principal, ref: Ref, *, version: bool) -> Response:
        note_ref(request, ref)
        require(principal, "writer", ref)
        state = api_state(request)
        pre = preconditions(request)
        key = idempotency_key(request, principal)
        doc = await read_payload(request, state.max_document_bytes)
        require_agreement(doc, ref, version=version)
        entry, outcome = await state.write(
            put_document, state.registry, doc, pre, actor=principal.name, idempotency_key=key
        )
        return _entry_response(entry, outcome)

    put_responses = {
        200: {**entry_out, "description": "replaced (or unchanged)"},
        201: {**entry_out, "description": "created"},
        **r.problems(400, 403, 404, 409, 413, 415),
    }

    @api.put(
        "/{kind}/{namespace}/{name}",
        responses=put_responses,
        openapi_extra={**DOCUMENT_BODY, **_with_none_match(WRITE_HEADERS)},
        summary="Create or replace the version the body names",
    )
    async def put_latest(
        request: Request,
        kind: KindPath,
        namespace: NamespacePath,
        name: NamePath,
    ) -> Response:
        principal = principal_of(request)
        ref = entry_ref(api_state(request), kind, namespace, name)
        return await _put(request, principal, ref, version=False)

    @api.put(
        "/{kind}/{namespace}/{name}/versions/{version}",
        responses=put_responses,
        openapi_extra={**DOCUMENT_BODY, **_with_none_match(WRITE_HEADERS)},
        summary="Create or replace one version",
    )
    async def put_version(
        request: Request,
        kind: KindPath,
        namespace: NamespacePath,
        name: NamePath,
        version: VersionPath,
    ) -> Response:
        principal = principal_of(request)
        ref = entry_ref(api_state(request), kind, namespace, name, version)
        return await _put(request, principal, ref, version=True)

    @api.delete(
        "/{kind}/{namespace}/{name}",
        responses=r.problems(400, 403, 404),
        summary="Refused (400): name the version to delete",
    )
    async def delete_latest(
        request: Request,
        kind: KindPath,
        namespace: NamespacePath,
        name: NamePath,
    ) -> Response:
        principal = principal_of(request)
        ref = entry_ref(api_state(request), kind, namespace, name)
        note_ref(request, ref)
        require(principal, "writer", ref)
        raise ApiProblem(
            400,
            f"name the version to delete: DELETE /v1/entries/{kind}/{namespace}/{name}"
            "/versions/{version}",
            code="version-required",
        )

    @api.delete(
        "/{kind}/{namespace}/{name}/versions/{version}",
        status_code=204,
        responses={204: {"description": "deleted"}, **r.problems(400, 403, 404, 409)},
        openapi_extra=WRITE_HEADERS,
        summary="Delete one version",
    )
    async def delete_version(
        request: Request,
        kind: KindPath,
        namespace: NamespacePath,
        name: NamePath,
        version: VersionPath,
    ) -> Response:
        principal = principal_of(request)
        state = api_state(request)
        ref = entry_ref(state, kind, namespace, name, version)
        note_ref(request, ref)
        require(principal, "writer", ref)
        pre = preconditions(request)
        if pre.must_not_exist:
            raise ApiProblem(
                400, "If-None-Match makes no sense on a delete", code="bad-precondition"
            )
        key = idempotency_key(request, principal)
        await state.write(_delete, state.registry, ref, pre.revision, principal.name, key)
        return Response(status_code=204)

    @api.post(
        "",
        status_code=201,
        responses={
            201: {**entry_out, "description": "created"},
            **r.problems(400, 403, 404, 409, 413, 415),
        },
        openapi_extra={**DOCUMENT_BODY, "parameters": WRITE_HEADERS["parameters"][1:]},
        summary="Create a new entry version (409 if it exists)",
    )
    async def create(request: Request) -> Response:
        principal = principal_of(request)
        state = api_state(request)
        require_role(principal, "writer")
        key = idempotency_key(request, principal)
        doc = await read_payload(request, state.max_document_bytes)
        ns = body_namespace(doc)
        hint = body_ref_hint(doc)
        if ns is not None:
            kind = str(doc.get("kind", ""))[:63]
            request.state.audit_target = (hint or "", kind, ns)
            if not principal.sees(ns):
                raise not_found(hint or f"{kind}:{ns}")
        if key is None and state.registry.settings.group_commit:
            entry = await state.create(doc, principal.name)
        else:
            entry = await state.write(
                state.registry.register, doc, actor=principal.name, idempotency_key=key
            )
        return r.entry_response(entry, 201, location=True)

    @api.get(
        "/{kind}/{namespace}/{name}/versions",
        responses={
            200: {"model": VersionList, "description": "versions and aliases"},
            **r.problems(404),
        },
        summary="List versions and aliases",
    )
    async def versions(
        request: Request,
        kind: KindPath,
        namespace: NamespacePath,
        name: NamePath,
    ) -> Response:
        principal = principal_of(request)
        state = api_state(request)
        ref = entry_ref(state, kind, namespace, name)
        require(principal, "reader", ref)
        items, aliases = await state.offload(_versions, state.registry, ref)
        return r.json(
            {
                "items": [e.to_dict() for e in items],
                "versions": [e.metadata.version for e in items],
                "aliases": aliases,
                "nextCursor": None,
            }
        )

    async def _relations(request: Request, principal: Principal, ref: Ref) -> Response:
        require(principal, "reader", ref)
        state = api_state(request)
        root, views = await state.offload(_relations_of, state.registry, ref)
        return r.json({"root": str(root.ref), "items": visible_relations(principal, views)})

    rel_responses = {
        200: {"model": RelationList, "description": "relations in both directions"},
        **r.problems(404),
    }

    @api.get(
        "/{kind}/{namespace}/{name}/relations",
        responses=rel_responses,
        summary="Relations of the latest version, both directions",
    )
    async def relations_latest(
        request: Request,
        kind: KindPath,
        namespace: NamespacePath,
        name: NamePath,
    ) -> Response:
        principal = principal_of(request)
        ref = entry_ref(api_state(request), kind, namespace, name)
        return await _relations(request, principal, ref)

    @api.get(
        "/{kind}/{namespace}/{name}/versions/{version}/relations",
        responses=rel_responses,
        summary="Relations of one version, both directions",
    )
    async def relations_version(
        request: Request,
        kind: KindPath,
        namespace: NamespacePath,
        name: NamePath,
        version: VersionPath,
    ) -> Response:
        principal = principal_of(request)
        ref = entry_ref(api_state(request), kind, namespace, name, version)
        return await _relations(request, principal, ref)

    return api


def _with_none_match(extra: dict[str, list[dict[str, object]]]) -> dict[str, object]:
    params = [
        *extra["parameters"],
        {
            "name": "If-None-Match",
            "in": "header",
            "required": False,
            "description": "* to create only (409 when the version exists)",
            "schema": {"type": "string", "enum": ["*"]},
        },
    ]
    return {"parameters": params}


def _delete(
    registry: Registry, ref: Ref, revision: int | None, actor: str, key: str | None
) -> None:
    current = get_entry(registry, ref)
    if current.metadata.version != ref.version:
        raise Invalid.at(
            ("path", "version"),
            f"{ref.version!r} is an alias of {current.metadata.version!r}; "
            "delete by the version itself",
            "alias-not-deletable",
        )
    try:
        registry.unregister(
            current.ref, expected_revision=revision, actor=actor, idempotency_key=key
        )
    except NotFound:
        raise not_found(ref) from None


def visible_relations(principal: Principal, views: list[RelationView]) -> list[dict[str, Any]]:
    """Relations as ``principal`` may see them.

    An incoming relation from a hidden namespace is left out (it is the other entry's
    declaration). An outgoing one stays (it is this entry's own text) but never says
    whether its hidden target exists: ``resolved`` is null, as for a target not registered.
    """
    out = []
    for view in views:
        if principal.sees(view.other.namespace):
            out.append(view.to_dict())
        elif view.direction == "outgoing":
            out.append({**view.to_dict(), "resolved": None})
    return out


def _versions(registry: Registry, ref: Ref) -> tuple[list[Entry], dict[str, str]]:
    items = registry.versions(ref)
    if not items:
        raise not_found(ref)
    return items, registry.aliases(ref)


def _relations_of(registry: Registry, ref: Ref) -> tuple[Entry, list[RelationView]]:
    root = get_entry(registry, ref)
    return root, list(registry.relations(root.ref))
