"""Path parameters, headers and the query-string check shared by the routes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Path, Request
from fastapi.routing import APIRoute

from hyper_registry.api.errors import ApiProblem
from hyper_registry.api.patterns import KIND_PATTERN, NAME_PATTERN, VERSION_PATTERN
from hyper_registry.api.state import ApiState
from hyper_registry.auth.tokens import Principal
from hyper_registry.core.errors import Conflict, Invalid, NotFound, Problem
from hyper_registry.core.ref import (
    NAME_MAX,
    NAMESPACE_MAX,
    VERSION_MAX,
    Ref,
    name_problem,
    version_problem,
)

_KIND = re.compile(KIND_PATTERN)


def _path(description: str, pattern: str, max_length: int) -> Any:
    # Documented (OpenAPI pattern and maxLength) but checked by ``entry_ref`` against
    # the grammar of core/ref.py, once, rather than by a second validator per request.
    return Path(
        description=description,
        json_schema_extra={"pattern": pattern, "maxLength": max_length},
    )


KindPath = Annotated[str, _path("the entry's kind", KIND_PATTERN, 63)]
NamespacePath = Annotated[str, _path("the namespace", NAME_PATTERN, NAMESPACE_MAX)]
NamePath = Annotated[str, _path("the entry's name", NAME_PATTERN, NAME_MAX)]
VersionPath = Annotated[
    str, _path("a version (or, to read, an alias)", VERSION_PATTERN, VERSION_MAX)
]

QUERY_PREFIXES = "x-query-prefixes"


def path_parameters(*names: str) -> list[dict[str, Any]]:
    """OpenAPI path parameters for routes that read ``request.path_params`` themselves.

    The hottest reads skip FastAPI's per-parameter validation (a sizeable share of the
    time of a cached read); ``entry_ref`` checks the same grammar.
    """
    spec = {
        "kind": ("the entry's kind", KIND_PATTERN, 63),
        "namespace": ("the namespace", NAME_PATTERN, NAMESPACE_MAX),
        "name": ("the entry's name", NAME_PATTERN, NAME_MAX),
        "version": ("a version, or an alias", VERSION_PATTERN, VERSION_MAX),
    }
    out = []
    for name in names:
        description, pattern, max_length = spec[name]
        out.append(
            {
                "name": name,
                "in": "path",
                "required": True,
                "description": description,
                "schema": {"type": "string", "pattern": pattern, "maxLength": max_length},
            }
        )
    return out


def entry_ref(
    state: ApiState, kind: str, namespace: str, name: str, version: str | None = None
) -> Ref:
    """The reference a path names; a bad name is 422, an unknown kind 404."""
    problems = []
    if not _KIND.fullmatch(kind):
        problems.append(Problem(("path", "kind"), f"kind {kind[:80]!r} is not valid", "bad-name"))
    for value, what, max_len in ((namespace, "namespace", NAMESPACE_MAX), (name, "name", NAME_MAX)):
        why = name_problem(value, what, max_len)
        if why:
            problems.append(Problem(("path", what), why[:300], "bad-name"))
    if version is not None:
        why = version_problem(version)
        if why:
            problems.append(Problem(("path", "version"), why[:300], "bad-name"))
    if problems:
        raise Invalid("the path does not name an entry", problems=problems)
    if kind not in state.registry.kinds:
        known = ", ".join(state.registry.kinds.names)
        raise NotFound(f"unknown kind {kind!r}; known kinds: {known}")
    return Ref(kind, namespace, name, version)


@dataclass(frozen=True)
class Preconditions:
    """``If-Match`` / ``If-None-Match`` of a write."""

    revision: int | None = None  # If-Match: "<revision>"
    must_exist: bool = False  # If-Match present (a revision or *)
    must_not_exist: bool = False  # If-None-Match: *


_ETAG = re.compile(r'(?:W/)?"([0-9]{1,18})"|([0-9]{1,18})')


def preconditions(request: Request) -> Preconditions:
    match = request.headers.get("if-match")
    none_match = request.headers.get("if-none-match")
    if match is not None and none_match is not None:
        # RFC 9110: both are evaluated; "exists at a revision" and "does not exist" never
        # both hold, so the precondition fails (a failed precondition is 409 here).
        raise Conflict("If-Match and If-None-Match cannot both hold")
    if none_match is not None:
        if none_match.strip() != "*":
            raise ApiProblem(
                400,
                "on a write, If-None-Match may only be '*' (create only)",
                code="bad-precondition",
            )
        return Preconditions(must_not_exist=True)
    if match is None:
        return Preconditions()
    text = match.strip()
    if text == "*":
        return Preconditions(must_exist=True)
    m = _ETAG.fullmatch(text)
    if m is None:
        raise ApiProblem(
            400,
            'If-Match must be an ETag (the revision, quoted, like "3") or *',
            code="bad-precondition",
        )
    return Preconditions(revision=int(m.group(1) or m.group(2)), must_exist=True)


_KEY = re.compile(r"[\x21-\x7e]{1,200}")


def idempotency_key(request: Request, principal: Principal) -> str | None:
    """The ``Idempotency-Key`` header, scoped to the caller (keys of two callers never meet)."""
    raw = request.headers.get("idempotency-key")
    if raw is None:
        return None
    if not _KEY.fullmatch(raw):
        raise ApiProblem(
            400,
            "Idempotency-Key must be 1 to 200 printable ASCII characters without spaces",
            code="bad-idempotency-key",
        )
    return f"{principal.name}:{raw}"


def _query_names(route: APIRoute) -> tuple[frozenset[str], tuple[str, ...]]:
    cached = getattr(route, "_hr_query_names", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    names: set[str] = set()
    stack = [route.dependant]
    while stack:
        dep = stack.pop()
        names.update(f.alias for f in dep.query_params)
        stack.extend(dep.dependencies)
    prefixes = tuple((route.openapi_extra or {}).get(QUERY_PREFIXES, ()))
    result = (frozenset(names), prefixes)
    route._hr_query_names = result  # type: ignore[attr-defined]
    return result


def reject_unknown_query(request: Request) -> None:
    """Unknown query parameters are refused (422), never silently ignored."""
    if not request.query_params:
        return
    route: Any = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    names, prefixes = _query_names(route)
    unknown = [k for k in request.query_params if k not in names and not k.startswith(prefixes)]
    if unknown:
        known = ", ".join(sorted(names)) or "none"
        raise Invalid(
            "unknown query parameter",
            problems=[
                Problem(
                    ("query", k[:100]), f"unknown query parameter; known: {known}", "unknown-field"
                )
                for k in unknown[:20]
            ],
        )
