"""Path parameters, headers and the query-string check shared by the routes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Path, Request
from fastapi.routing import APIRoute

from hyper_registry.api.errors import ApiProblem
from hyper_registry.api.state import ApiState
from hyper_registry.auth.tokens import Principal
from hyper_registry.core.errors import Invalid, NotFound, Problem
from hyper_registry.core.ref import NAMESPACE_MAX, NAME_MAX, VERSION_MAX, Ref

# The name grammar of core/ref.py as JSON Schema patterns (no '..', no leading or
# trailing '.' or '-'), so generated clients and fuzzers send only well-formed names.
KIND_PATTERN = r"^[a-z][a-z0-9-]{0,62}$"
NAME_PATTERN = r"^[a-z0-9]((\.?[a-z0-9_-])*\.?[a-z0-9_])?$"
VERSION_PATTERN = r"^[A-Za-z0-9]((\.?[A-Za-z0-9_+-])*\.?[A-Za-z0-9_+])?$"

KindPath = Annotated[str, Path(description="the entry's kind", pattern=KIND_PATTERN)]
NamespacePath = Annotated[
    str, Path(description="the namespace", pattern=NAME_PATTERN, max_length=NAMESPACE_MAX)
]
NamePath = Annotated[str, Path(description="the entry's name", pattern=NAME_PATTERN, max_length=NAME_MAX)]
VersionPath = Annotated[
    str,
    Path(description="a version (or, to read, an alias)", pattern=VERSION_PATTERN, max_length=VERSION_MAX),
]

QUERY_PREFIXES = "x-query-prefixes"


def entry_ref(
    state: ApiState, kind: str, namespace: str, name: str, version: str | None = None
) -> Ref:
    """The reference a path names; an unknown kind is 404, a bad name 422."""
    try:
        ref = Ref.parse(f"{kind}:{namespace}/{name}" + (f"@{version}" if version else ""))
    except Invalid as exc:
        raise Invalid(
            "the path does not name an entry",
            problems=[Problem(("path",), p.message, "bad-name") for p in exc.problems],
        ) from None
    if kind not in state.registry.kinds:
        known = ", ".join(state.registry.kinds.names)
        raise NotFound(f"unknown kind {kind!r}; known kinds: {known}")
    return ref


@dataclass(frozen=True)
class Preconditions:
    """``If-Match`` / ``If-None-Match`` of a write."""

    revision: int | None = None  # If-Match: "<revision>"
    must_exist: bool = False  # If-Match present (a revision or *)
    must_not_exist: bool = False  # If-None-Match: *


_ETAG = re.compile(r'(?:W/)?"(\d{1,18})"|(\d{1,18})')


def preconditions(request: Request) -> Preconditions:
    match = request.headers.get("if-match")
    none_match = request.headers.get("if-none-match")
    if match is not None and none_match is not None:
        raise ApiProblem(400, "send If-Match or If-None-Match, not both", code="bad-precondition")
    if none_match is not None:
        if none_match.strip() != "*":
            raise ApiProblem(
                400, "on a write, If-None-Match may only be '*' (create only)", code="bad-precondition"
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
            400, 'If-Match must be an ETag (the revision, quoted, like "3") or *', code="bad-precondition"
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
    unknown = [
        k for k in request.query_params if k not in names and not k.startswith(prefixes or ("\0",))
    ]
    if unknown:
        known = ", ".join(sorted(names)) or "none"
        raise Invalid(
            "unknown query parameter",
            problems=[
                Problem(("query", k[:100]), f"unknown query parameter; known: {known}", "unknown-field")
                for k in unknown[:20]
            ],
        )
