"""``GET /v1/entries``: entries across kinds, filtered, in pages with an opaque cursor."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import StringConstraints
from starlette.responses import Response

from hyper_registry.api import responses as r
from hyper_registry.api.auth import AuthenticatedRoute, principal_of
from hyper_registry.api.params import QUERY_PREFIXES
from hyper_registry.api.patterns import NAME_PATTERN
from hyper_registry.api.schemas import EntryPage
from hyper_registry.api.state import api_state
from hyper_registry.core.errors import Invalid
from hyper_registry.core.ref import NAME_MAX, NAMESPACE_MAX
from hyper_registry.core.settings import Settings
from hyper_registry.store import base

SPEC_PREFIX = "spec."
CURSOR_PATTERN = r"^[0-9a-z]{1,12}$"
LABEL_PATTERN = r"^[^=]{1,317}=.{0,253}$"
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def encode_cursor(after: int | None) -> str | None:
    """An opaque page cursor (base 36 of the last row's position; clients must not rely on it)."""
    if after is None:
        return None
    out = ""
    n = after
    while True:
        n, d = divmod(n, 36)
        out = _DIGITS[d] + out
        if n == 0:
            return out


def decode_cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    if not 1 <= len(cursor) <= 12 or any(c not in _DIGITS for c in cursor):
        raise Invalid.at(("query", "cursor"), "not a cursor this API returned", "bad-cursor")
    return int(cursor, 36)


Label = Annotated[str, StringConstraints(pattern=LABEL_PATTERN)]
Tag = Annotated[str, StringConstraints(pattern=NAME_PATTERN, max_length=NAME_MAX)]


def _labels(selectors: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for i, sel in enumerate(selectors):
        key, eq, value = sel.partition("=")
        if not eq or not key:  # the pattern checks this already; kept for direct callers
            raise Invalid.at(("query", "label", i), "a label selector reads key=value", "bad-label")
        if key in out and out[key] != value:
            raise Invalid.at(("query", "label", i), f"label {key!r} is given twice", "bad-label")
        out[key] = value
    return out


def _spec(request: Request) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in request.query_params.multi_items():
        if key.startswith(SPEC_PREFIX):
            path = key[len(SPEC_PREFIX) :]
            if path in out and out[path] != value:
                raise Invalid.at(
                    ("query", key[:100]), "given twice with different values", "bad-spec"
                )
            out[path] = value
    return out


def router(settings: Settings) -> APIRouter:
    api = APIRouter(
        prefix="/v1/entries",
        tags=["entries"],
        route_class=AuthenticatedRoute,
    )
    max_page = settings.max_page_size
    default_page = min(100, max_page)

    @api.get(
        "",
        responses={200: {"model": EntryPage, "description": "one page"}, **r.problems()},
        openapi_extra={
            QUERY_PREFIXES: [SPEC_PREFIX],
            "description": (
                "Filters narrow the result; repeated `kind`, `label` and `tag` all apply. "
                "`spec.<dotted.path>=value` matches a spec field's text. Only the latest "
                "version of each entry unless `allVersions=true`. A token scoped to "
                "namespaces lists only entries of those namespaces."
            ),
        },
        summary="Search entries across kinds",
    )
    async def list_entries(
        request: Request,
        kind: Annotated[
            list[str] | None, Query(description="kinds (repeatable)", max_length=16)
        ] = None,
        namespace: Annotated[
            str | None, Query(pattern=NAME_PATTERN, max_length=NAMESPACE_MAX)
        ] = None,
        name: Annotated[str | None, Query(pattern=NAME_PATTERN, max_length=NAME_MAX)] = None,
        owner: Annotated[str | None, Query(pattern=NAME_PATTERN, max_length=NAME_MAX)] = None,
        label: Annotated[
            list[Label] | None, Query(description="key=value (repeatable)", max_length=64)
        ] = None,
        tag: Annotated[
            list[Tag] | None, Query(description="tags (repeatable)", max_length=64)
        ] = None,
        q: Annotated[
            str | None, Query(description="free text in name, title, description", max_length=256)
        ] = None,
        allVersions: Annotated[
            bool, Query(description="every version, not just the latest")
        ] = False,
        cursor: Annotated[
            str | None, Query(description="nextCursor of the previous page", pattern=CURSOR_PATTERN)
        ] = None,
        limit: Annotated[
            int, Query(ge=1, le=max_page, description=f"page size, at most {max_page}")
        ] = default_page,
    ) -> Response:
        principal = principal_of(request)
        for i, k in enumerate(kind or ()):
            if len(k) > 63:
                raise Invalid.at(("query", "kind", i), "not a kind", "unknown-kind")
        query = base.Query(
            kinds=kind or None,
            namespace=namespace,
            visible_namespaces=principal.visible,
            name=name,
            owner=owner,
            labels=_labels(label or []),
            tags=tag or (),
            text=q or None,
            spec=_spec(request),
            all_versions=allVersions,
            limit=limit,
            after=decode_cursor(cursor),
        )
        state = api_state(request)
        page = await state.offload(state.registry.query, query)
        return r.json(
            {
                "items": [e.to_dict() for e in page.items],
                "nextCursor": encode_cursor(page.next_cursor),
            }
        )

    return api
