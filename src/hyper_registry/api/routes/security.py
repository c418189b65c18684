"""Routes for SBOMs, advisories, findings, VEX and vulnerability impact (``/v1/security``).

Namespace visibility and roles as everywhere: a token sees only its namespaces (anything
else reads as not found) and writes need the writer role in the target namespace.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from hyper_registry.api import responses as r
from hyper_registry.api.auth import AuthenticatedRoute, not_found, principal_of, require_visible
from hyper_registry.api.body import read_body
from hyper_registry.api.patterns import NAME_PATTERN, VERSION_PATTERN
from hyper_registry.api.state import api_state
from hyper_registry.core.errors import Invalid
from hyper_registry.core.ref import NAMESPACE_MAX, Ref, name_problem
from hyper_registry.core.settings import Settings
from hyper_registry.kinds.security.importing import (
    DEFAULT_ADVISORY_NAMESPACE,
    advisories_from_bytes,
)
from hyper_registry.kinds.security.index import SecurityIndex

MAX_ID = 600
_NAME = NAME_PATTERN.strip("^$")
REF_PATTERN = rf"^[a-z][a-z0-9-]{{0,30}}:{_NAME}/{_NAME}(@{VERSION_PATTERN.strip('^$')})?$"
Reference = Annotated[
    str,
    Query(
        max_length=600,
        pattern=REF_PATTERN,
        description="kind:namespace/name[@version] of an SBOM or any artifact",
    ),
]
Namespace = Annotated[str | None, Query(max_length=63, pattern=NAME_PATTERN)]


class TriageRequest(BaseModel):
    vulnerability: Annotated[str, Field(min_length=1, max_length=512)]
    status: Annotated[str, Field(max_length=32)]
    artifact: Annotated[str | None, Field(max_length=600)] = None
    component: Annotated[str | None, Field(max_length=2048)] = None
    justification: Annotated[str | None, Field(max_length=256)] = None
    statement: Annotated[str | None, Field(max_length=65536)] = None


def _index(request: Request) -> SecurityIndex:
    return api_state(request).registry.extension(SecurityIndex)


def _visible_ref(request: Request, text: str, what: str = "ref") -> Ref:
    """The reference, visible to the caller; a reference that cannot name an entry (bad
    grammar, unknown kind, too long a part) reads as not found, like an invisible one."""
    principal = principal_of(request)
    try:
        ref = Ref.parse(text)
        api_state(request).registry.ref(ref)
    except Invalid:
        raise not_found(text) from None
    require_visible(principal, ref)
    return ref


def _namespace(value: str | None, what: str = "namespace") -> str | None:
    if value is not None and name_problem(value, what, NAMESPACE_MAX):
        raise Invalid.at(
            ("query", what), name_problem(value, what, NAMESPACE_MAX) or "", "bad-name"
        )
    return value


def router(settings: Settings) -> APIRouter:
    api = APIRouter(prefix="/v1/security", tags=["security"], route_class=AuthenticatedRoute)
    limit = min(50 * 1024 * 1024, settings.max_bulk_bytes)

    @api.post(
        "/sboms",
        status_code=201,
        responses=r.problems(400, 403, 404, 413, 422),
        summary="Import an SBOM (CycloneDX 1.2-1.6 JSON/XML, SPDX 2.2/2.3 JSON/tag-value)",
    )
    async def import_sbom(
        request: Request,
        namespace: Namespace = None,
        name: Annotated[str | None, Query(max_length=253, pattern=NAME_PATTERN)] = None,
        version: Annotated[str | None, Query(max_length=128, pattern=VERSION_PATTERN)] = None,
        describes: Annotated[str | None, Query(max_length=600, pattern=REF_PATTERN)] = None,
    ) -> Response:
        principal = principal_of(request)
        principal.require("writer")
        _namespace(namespace)
        if describes is not None:
            _visible_ref(request, describes, "describes")
        data = await read_body(request, limit)
        index = _index(request)

        def authorize(ns: str) -> None:
            principal.require("writer", ns)

        report = await api_state(request).write(
            index.import_sbom,
            data,
            namespace=namespace,
            name=name,
            version=version,
            describes=describes,
            actor=principal.name,
            authorize=authorize,
        )
        return r.json(report, 201 if report["outcome"] == "created" else 200)

    @api.post(
        "/advisories",
        responses=r.problems(400, 403, 404, 413, 422),
        summary="Import OSV advisories (one record or a list, JSON or YAML)",
    )
    async def import_advisories(
        request: Request,
        namespace: Namespace = None,
    ) -> Response:
        principal = principal_of(request)
        ns = _namespace(namespace) or DEFAULT_ADVISORY_NAMESPACE
        principal.require("writer", ns)
        data = await read_body(request, limit)
        index = _index(request)
        report = await api_state(request).write(
            index.import_advisories, advisories_from_bytes(data), namespace=ns, actor=principal.name
        )
        return r.json(report)

    @api.post(
        "/vex", responses=r.problems(400, 403, 413, 422), summary="Import an OpenVEX document"
    )
    async def import_vex(request: Request) -> Response:
        principal = principal_of(request)
        principal.require("writer")
        if principal.namespaces is not None:
            principal.require("admin")  # statements may touch findings of any namespace
        data = await read_body(request, limit)
        index = _index(request)
        return r.json(
            await api_state(request).write(index.import_openvex, data, actor=principal.name)
        )

    @api.post("/triage", responses=r.problems(400, 403, 404, 422), summary="Triage a vulnerability")
    async def triage(request: Request, body: TriageRequest) -> Response:
        principal = principal_of(request)
        if body.artifact is not None:
            ref = _visible_ref(request, body.artifact, "artifact")
            principal.require("writer", ref.namespace)
        else:
            principal.require("writer")
            if principal.namespaces is not None:
                principal.require("admin")  # a purl may appear in any namespace's SBOMs
        index = _index(request)
        out = await api_state(request).write(
            index.triage,
            body.vulnerability,
            status=body.status,
            artifact=body.artifact,
            component=body.component,
            justification=body.justification,
            statement=body.statement,
            actor=principal.name,
            namespaces=principal.visible,
        )
        return r.json(out)

    @api.get(
        "/vulnerabilities/{vuln_id}/impact",
        responses=r.problems(404),
        summary="What a vulnerability reaches: components, SBOMs, artifacts, dependents",
    )
    async def impact(
        request: Request,
        vuln_id: str,
        depth: Annotated[int | None, Query(ge=1, le=settings.max_graph_depth)] = None,
    ) -> Response:
        principal = principal_of(request)
        if len(vuln_id) > MAX_ID:
            raise Invalid.at(("path", "id"), "too long")
        index = _index(request)
        out = await api_state(request).offload(
            index.impact, vuln_id, namespaces=principal.visible, depth=depth
        )
        return r.json(out)

    @api.get("/summary", responses=r.problems(404), summary="Vulnerability summary of an entry")
    async def summary(request: Request, ref: Reference) -> Response:
        principal = principal_of(request)
        _visible_ref(request, ref)
        index = _index(request)
        return r.json(await api_state(request).offload(index.summary, ref, principal.visible))

    @api.get("/portfolio", responses=r.problems(), summary="Vulnerability summary per namespace")
    async def portfolio(request: Request) -> Response:
        principal = principal_of(request)
        index = _index(request)
        return r.json(await api_state(request).offload(index.portfolio, principal.visible))

    @api.get("/findings", responses=r.problems(404), summary="Findings of an SBOM or artifact")
    async def findings(
        request: Request,
        ref: Reference,
        suppressed: bool = True,
    ) -> Response:
        principal = principal_of(request)
        _visible_ref(request, ref)
        index = _index(request)
        items: list[dict[str, Any]] = await api_state(request).offload(
            index.findings, ref, principal.visible, include_suppressed=suppressed
        )
        return r.json({"ref": ref, "items": items})

    @api.get(
        "/findings/{finding_id}", responses=r.problems(404), summary="A finding and its history"
    )
    async def finding(request: Request, finding_id: int) -> Response:
        principal = principal_of(request)
        index = _index(request)
        return r.json(
            await api_state(request).offload(index.finding, finding_id, principal.visible)
        )

    return api
