"""``POST /v1/apply``: create or update one document or a list, JSON or YAML.

A single document answers like ``PUT`` would refuse it (its problem is the answer).
A list (a JSON array, a YAML array, or a YAML stream of ``---`` documents) is:

- ``?atomic=true`` (the default): all or nothing. Every document is validated first;
  if any is refused, nothing is written and the answer is 422 ``batch-refused`` with
  each problem's path prefixed by the document's index (``[3].metadata.name``).
- ``?atomic=false``: each document stands alone; the answer is 200 with one result
  per document, refused ones carrying their problem, and the others written.

A document in a namespace the token cannot see is refused as not found, exactly like
a missing entry. ``Idempotency-Key`` makes a single-document apply replayable; a list
is not recorded under the key (re-applying a list is itself idempotent: the second run
reports ``unchanged``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from hyper_registry.api import responses as r
from hyper_registry.api.audit import record_item_refusals, set_target
from hyper_registry.api.auth import AuthenticatedRoute, not_found, principal_of, require_role
from hyper_registry.api.body import read_payload
from hyper_registry.api.errors import domain_problem, status_of
from hyper_registry.api.params import idempotency_key
from hyper_registry.api.routes.common import body_namespace, body_ref_hint
from hyper_registry.api.schemas import ApplyReportOut
from hyper_registry.api.state import api_state
from hyper_registry.auth.tokens import Principal
from hyper_registry.core.errors import BatchRefused, HyperRegistryError, ItemError
from hyper_registry.core.registry import ApplyReport, Registry

_DOC = {"$ref": "#/components/schemas/Document"}
_BODY = {"oneOf": [_DOC, {"type": "array", "items": _DOC}]}
APPLY_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": _BODY},
            "application/yaml": {"schema": _BODY},
        },
    }
}


def _hint(doc: Any) -> str:
    hint = body_ref_hint(doc)
    if hint is not None:
        return hint
    ns = body_namespace(doc)
    kind = doc.get("kind") if isinstance(doc, dict) else None
    return f"{kind}:{ns}" if ns is not None and isinstance(kind, str) else ""


def _apply_one(
    registry: Registry, doc: Any, principal: Principal, key: str | None
) -> dict[str, Any]:
    ns = body_namespace(doc)
    if ns is not None and not principal.sees(ns):
        raise not_found(_hint(doc))
    result = registry.apply(doc, actor=principal.name, idempotency_key=key)
    report = ApplyReport(results=[result])
    return _report(report)


def _apply_list(
    registry: Registry, docs: list[Any], principal: Principal, atomic: bool
) -> dict[str, Any]:
    invisible: list[ItemError] = []
    visible: list[tuple[int, Any]] = []
    for i, doc in enumerate(docs):
        ns = body_namespace(doc)
        if ns is not None and not principal.sees(ns):
            invisible.append(ItemError(i, not_found(_hint(doc)), _hint(doc)))
        else:
            visible.append((i, doc))
    if atomic and invisible:
        errors = list(invisible)
        for i, doc in visible:
            try:
                registry.validate(doc)
            except HyperRegistryError as exc:
                errors.append(ItemError(i, exc, _hint(doc)))
        raise BatchRefused(sorted(errors, key=lambda e: e.index))
    report = registry.apply_many([doc for _, doc in visible], actor=principal.name, atomic=atomic)
    positions = [i for i, _ in visible]
    for res in report.results:
        res.index = positions[res.index]
    for err in report.errors:
        err.index = positions[err.index]
    report.errors = sorted([*report.errors, *invisible], key=lambda e: e.index)
    if report.errors:
        record_item_refusals(registry, principal.name, [_audit(e, docs) for e in report.errors])
    return _report(report)


def _audit(err: ItemError, docs: list[Any]) -> tuple[str, str, str, dict[str, Any]]:
    doc = docs[err.index]
    ns = body_namespace(doc) or ""
    kind = doc.get("kind") if isinstance(doc, dict) and ns else ""
    detail = {
        "status": status_of(err.error),
        "code": err.error.code,
        "reason": str(err.error)[:500],
        "index": err.index,
    }
    return _hint(doc), str(kind)[:63], ns, detail


def _report(report: ApplyReport) -> dict[str, Any]:
    items: list[dict[str, Any]] = [res.to_dict() for res in report.results]
    for err in report.errors:
        items.append(
            {
                "index": err.index,
                "ref": err.ref,
                "outcome": "refused",
                "error": domain_problem(err.error),
            }
        )
    items.sort(key=lambda item: int(item["index"]))
    return {"results": items, "counts": report.counts()}


def router() -> APIRouter:
    api = APIRouter(tags=["entries"], route_class=AuthenticatedRoute)

    @api.post(
        "/v1/apply",
        responses={
            200: {"model": ApplyReportOut, "description": "one result per document"},
            **r.problems(400, 403, 404, 409, 413, 415),
        },
        openapi_extra={
            **APPLY_BODY,
            "parameters": [
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "description": "replays the first answer of a single-document apply",
                    "schema": {"type": "string", "pattern": r"^[\x21-\x7e]{1,200}$"},
                }
            ],
        },
        summary="Create or update one document or a list",
    )
    async def apply(
        request: Request,
        atomic: Annotated[
            bool, Query(description="a list: all or nothing (true) or each on its own (false)")
        ] = True,
    ) -> Response:
        principal = principal_of(request)
        state = api_state(request)
        require_role(principal, "writer")
        key = idempotency_key(request, principal)
        payload = await read_payload(request, state.max_bulk_bytes, multi=True)
        if isinstance(payload, list):
            out = await state.write(_apply_list, state.registry, payload, principal, atomic)
        else:
            ns = body_namespace(payload)
            if ns is not None:
                kind = payload.get("kind") if isinstance(payload, dict) else ""
                set_target(request, str(kind)[:63], ns, _hint(payload))
            out = await state.write(_apply_one, state.registry, payload, principal, key)
        return r.json(out)

    return api
