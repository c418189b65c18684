"""Refusals go to the audit (the change log, ``op="refuse"``).

Recorded: every authentication or authorisation failure (401, 403) and every other
4xx answer to an authenticated write under ``/v1``. Nothing else is written for a
refused request. The row names the target's namespace, so it is visible only to
callers who see that namespace; a refusal in a namespace the caller cannot see reads
exactly like one for a missing entry ("not found").
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from hyper_registry.core.ref import NAMESPACE_MAX, name_problem, version_problem

if TYPE_CHECKING:
    from hyper_registry.api.state import ApiState

log = logging.getLogger("hyper_registry.api")

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ANONYMOUS = "anonymous"


def set_target(request: Request, kind: str, namespace: str, ref: str) -> None:
    """Name what a write was about, for the audit row of its refusal."""
    request.state.audit_target = (ref, kind, namespace)


def _target(request: Request) -> tuple[str, str, str]:
    noted = getattr(request.state, "audit_target", None)
    if noted is not None:
        ref, kind, namespace = noted
        return str(ref), str(kind), str(namespace)
    params = request.path_params
    kind = str(params.get("kind", ""))
    namespace = str(params.get("namespace", ""))
    name = str(params.get("name", ""))
    version = params.get("version")
    if name_problem(kind, "kind", 63) or name_problem(namespace, "namespace", NAMESPACE_MAX):
        return "", "", ""
    if name_problem(name):
        return "", kind, namespace
    ref = f"{kind}:{namespace}/{name}"
    if version is not None and not version_problem(version):
        ref += f"@{version}"
    return ref, kind, namespace


def should_record(request: Request, status: int) -> bool:
    if not 400 <= status < 500:
        return False
    if status in (401, 403):
        return True
    principal = getattr(request.state, "principal", None)
    return (
        principal is not None
        and request.method in WRITE_METHODS
        and request.url.path.startswith("/v1/")
    )


async def record_refusal(request: Request, problem: dict[str, Any]) -> None:
    status = int(problem["status"])
    if not should_record(request, status):
        return
    state: ApiState | None = getattr(request.app.state, "api", None)
    if state is None:
        return
    principal = getattr(request.state, "principal", None)
    actor = principal.name if principal is not None else ANONYMOUS
    ref, kind, namespace = _target(request)
    detail = {
        "status": status,
        "code": str(problem.get("code", "")),
        "reason": str(problem.get("detail", ""))[:500],
        "method": request.method,
        "path": request.url.path[:300],
    }
    try:
        await run_in_threadpool(
            state.registry.store.record,
            actor=actor,
            op="refuse",
            ref=ref,
            kind=kind,
            namespace=namespace,
            detail=detail,
        )
    except Exception:  # the refusal stands even when its audit row cannot be written
        log.exception("could not record a refusal in the audit")


def record_item_refusals(
    registry: Any, actor: str, refusals: list[tuple[str, str, str, dict[str, Any]]]
) -> None:
    """Audit rows for the refused items of a per-item (non-atomic) bulk apply.

    Each refusal is ``(ref, kind, namespace, detail)``; runs in a worker thread.
    """
    for ref, kind, namespace, detail in refusals:
        try:
            registry.store.record(
                actor=actor, op="refuse", ref=ref, kind=kind, namespace=namespace, detail=detail
            )
        except Exception:
            log.exception("could not record a refusal in the audit")
