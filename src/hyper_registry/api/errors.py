"""One mapping from errors to RFC 9457 problem documents (``application/problem+json``).

Domain errors (``core/errors.py``) map by class; request validation, routing and
protocol errors map to the same shape; anything unexpected becomes a bare 500 whose
details stay in the server log. No stack trace, file path or SQL reaches a client.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from hyper_registry.api.audit import record_refusal
from hyper_registry.core.errors import (
    AlreadyExists,
    BatchRefused,
    Conflict,
    Forbidden,
    HyperRegistryError,
    Invalid,
    NotFound,
    Problem,
    TooLarge,
    Unavailable,
)

log = logging.getLogger("hyper_registry.api")

PROBLEM_TYPE = "https://hyper-registry.dev/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"

_STATUS: tuple[tuple[type[HyperRegistryError], int], ...] = (
    (NotFound, 404),
    (AlreadyExists, 409),
    (Conflict, 409),
    (BatchRefused, 422),
    (Invalid, 422),
    (Forbidden, 403),
    (TooLarge, 413),
    (Unavailable, 503),
)

_HTTP_CODES = {
    400: ("bad-request", "Bad request"),
    401: ("unauthenticated", "Unauthenticated"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    409: ("conflict", "Conflict"),
    413: ("too-large", "Too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("invalid", "Invalid input"),
    500: ("internal", "Internal error"),
    503: ("unavailable", "Unavailable"),
}


class ApiProblem(Exception):
    """An HTTP-level refusal that is not a domain error (malformed body, media type, auth)."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        code: str | None = None,
        title: str | None = None,
        problems: Sequence[Problem] = (),
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        default_code, default_title = _HTTP_CODES.get(status, (f"http-{status}", "Error"))
        self.status = status
        self.detail = detail
        self.code = code or default_code
        self.title = title or default_title
        self.problems = list(problems)
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})


def unauthenticated(detail: str, error: str | None = None) -> ApiProblem:
    challenge = 'Bearer realm="hyper-registry"'
    if error:
        challenge += f', error="{error}"'
    return ApiProblem(401, detail, headers={"WWW-Authenticate": challenge})


def status_of(exc: HyperRegistryError) -> int:
    for cls, status in _STATUS:
        if isinstance(exc, cls):
            return status
    return 400


def problem_dict(
    status: int,
    code: str,
    title: str,
    detail: str,
    instance: str | None,
    problems: Sequence[Problem] = (),
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "errors": [p.to_dict() for p in problems],
    }
    if instance is not None:
        body["instance"] = instance
    if extra:
        body.update(extra)
    return body


def domain_problem(exc: HyperRegistryError, instance: str | None = None) -> dict[str, Any]:
    return problem_dict(status_of(exc), exc.code, exc.title, str(exc), instance, exc.problems)


def problem_response(body: dict[str, Any], headers: Mapping[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(body),
        status_code=int(body["status"]),
        media_type=PROBLEM_MEDIA_TYPE,
        headers=dict(headers or {}),
    )


async def _respond(
    request: Request, body: dict[str, Any], headers: Mapping[str, str] | None = None
) -> Response:
    await record_refusal(request, body)
    return problem_response(body, headers)


async def _on_domain(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HyperRegistryError)
    body = domain_problem(exc, request.url.path)
    if body["status"] >= 500:
        log.warning("%s %s: %s", request.method, request.url.path, exc)
    return await _respond(request, body)


async def _on_api(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiProblem)
    body = problem_dict(
        exc.status, exc.code, exc.title, exc.detail, request.url.path, exc.problems, exc.extra
    )
    return await _respond(request, body, exc.headers)


async def _on_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for err in exc.errors():
        loc = tuple(p for p in err.get("loc", ()) if isinstance(p, str | int))
        code = str(err.get("type", "invalid")).replace("_", "-")
        problems.append(Problem(loc, str(err.get("msg", "invalid value")), code))
    n = len(problems)
    detail = f"{n} problem{'s' if n != 1 else ''} with the request"
    if problems:
        detail += f": {problems[0].path}: {problems[0].message}"
    body = problem_dict(422, "invalid", "Invalid input", detail, request.url.path, problems)
    return await _respond(request, body)


async def _on_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code, title = _HTTP_CODES.get(exc.status_code, (f"http-{exc.status_code}", "Error"))
    detail = exc.detail if isinstance(exc.detail, str) else title
    if exc.status_code == 404:
        detail = f"no route for {request.url.path}"[:300]
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        detail = f"{request.method} is not allowed here"
        from hyper_registry.api.openapi import allowed_methods

        allow = allowed_methods(request)
        if allow:
            headers["Allow"] = allow
    body = problem_dict(exc.status_code, code, title, detail, request.url.path)
    return await _respond(request, body, headers)


async def _on_unexpected(request: Request, exc: Exception) -> Response:
    log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    body = problem_dict(
        500,
        "internal",
        "Internal error",
        "an unexpected error occurred; it was logged on the server",
        request.url.path,
    )
    return problem_response(body)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(HyperRegistryError, _on_domain)
    app.add_exception_handler(ApiProblem, _on_api)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(Exception, _on_unexpected)
