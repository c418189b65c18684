"""Pre-serialised JSON responses and the OpenAPI declarations of problem answers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response

from hyper_registry.api.errors import PROBLEM_MEDIA_TYPE
from hyper_registry.core.envelope import Entry

_DESCRIPTIONS = {
    400: "Malformed request (body syntax, header)",
    401: "No valid bearer token",
    403: "The token's role does not allow this",
    404: "Not found (or not visible to this token)",
    409: "Conflict: exists already, stale If-Match revision, or reused idempotency key",
    413: "Body over the size limit",
    415: "Content-Type is not JSON or YAML",
    422: "Invalid input",
    503: "The store is unavailable",
}


def json(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(data), status_code=status, media_type="application/json", headers=headers
    )


def etag(entry: Entry) -> str:
    return f'"{entry.revision}"'


def entry_location(entry: Entry) -> str:
    r = entry.ref
    return f"/v1/entries/{r.kind}/{r.namespace}/{r.name}/versions/{r.version}"


def entry_response(entry: Entry, status: int = 200, *, location: bool = False) -> Response:
    headers = {"ETag": etag(entry)}
    if location:
        headers["Location"] = entry_location(entry)
    return json(entry.to_dict(), status, headers)


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for problem answers (plus 401, 500 and 503 on every route)."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in sorted({*statuses, 401, 422, 503}):
        out[status] = {
            "description": _DESCRIPTIONS.get(status, "Error"),
            "content": {
                PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemDocument"}}
            },
        }
    out[500] = {
        "description": "Unexpected error (details are logged on the server only)",
        "content": {
            PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemDocument"}}
        },
    }
    return out


ENTRY_HEADERS = {
    "ETag": {"description": "the entry's revision, quoted", "schema": {"type": "string"}},
}
