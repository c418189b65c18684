"""Request bodies: media type, size limit, and JSON or YAML parsing with positions.

- ``Content-Type`` must be JSON (``application/json``) or YAML (``application/yaml``,
  ``application/x-yaml``, ``text/yaml``); anything else is 415.
- The size limit is checked against ``Content-Length`` before a byte is read, and
  again while the body streams in (chunked requests have no length): 413.
- A body that does not parse is 400 with the line and column of the fault.
- YAML is read with a safe loader that keeps dates as strings and refuses the tags
  JSON cannot hold (``!!binary``, ``!!set``, ...). Anchors and aliases work, but a
  document that expands to more nodes than its bytes (an alias bomb) is 413, and
  nesting deeper than ``MAX_DEPTH`` or non-finite numbers are 422.
"""

from __future__ import annotations

import math
import re
from typing import Any, Literal

import orjson
import yaml
from fastapi import Request

from hyper_registry.api.errors import ApiProblem
from hyper_registry.core.errors import Invalid, Problem, TooLarge

MediaKind = Literal["json", "yaml"]
JSON_TYPES = frozenset({"application/json"})
YAML_TYPES = frozenset({"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"})
ACCEPTED = "application/json, application/yaml"
MAX_DEPTH = 100
_DIGITS = re.compile(r"[0-9]{1,19}")

_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_Base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[valid-type,misc]
    """Safe YAML limited to what JSON can hold; dates stay strings."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != _TIMESTAMP]
    for first, resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.items()
}


def _refuse(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    raise yaml.constructor.ConstructorError(
        None, None, f"the tag {node.tag} cannot be stored as JSON", node.start_mark
    )


for _tag in ("binary", "set", "omap", "pairs"):
    _Loader.add_constructor(f"tag:yaml.org,2002:{_tag}", _refuse)


def media_kind(request: Request) -> MediaKind:
    raw = request.headers.get("content-type", "")
    media = raw.split(";", 1)[0].strip().lower()
    if media in JSON_TYPES:
        return "json"
    if media in YAML_TYPES:
        return "yaml"
    shown = f"{media!r}" if media else "no Content-Type"
    raise ApiProblem(
        415,
        f"{shown} is not accepted here; send {ACCEPTED}",
        headers={"Accept": ACCEPTED},
    )


async def read_body(request: Request, limit: int) -> bytes:
    length = request.headers.get("content-length")
    if length is not None:
        if not _DIGITS.fullmatch(length.strip()):
            raise ApiProblem(400, "Content-Length is not a number")
        if int(length) > limit:
            raise TooLarge(f"the request body is {int(length)} bytes; the limit is {limit}")
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise TooLarge(f"the request body is over the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _malformed(what: str, message: str, line: int | None, column: int | None) -> ApiProblem:
    where = f" at line {line}, column {column}" if line is not None else ""
    extra = {"line": line, "column": column} if line is not None else {}
    return ApiProblem(
        400,
        f"malformed {what}{where}: {message}",
        code="malformed",
        title="Malformed body",
        problems=[Problem((), f"{message}{where}", f"malformed-{what.lower()}")],
        extra=extra,
    )


def parse_json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise _malformed("JSON", exc.msg, exc.lineno, exc.colno) from None


def parse_yaml(body: bytes, *, multi: bool) -> Any:
    try:
        docs = [d for d in yaml.load_all(body, Loader=_Loader) if d is not None]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = exc.problem or exc.context or "not valid YAML"
        line = mark.line + 1 if mark is not None else None
        column = mark.column + 1 if mark is not None else None
        raise _malformed("YAML", message, line, column) from None
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or "not valid YAML"
        raise _malformed("YAML", str(reason), None, None) from None
    if not docs:
        raise _malformed("YAML", "the body holds no document", 1, 1)
    if len(docs) == 1:
        return docs[0]
    if not multi:
        raise Invalid.at((), f"one document expected here, got {len(docs)}", "one-document")
    return docs


def check_tree(data: Any, budget: int) -> None:
    """Refuse what JSON storage cannot hold or what would blow up downstream."""
    left = [budget]

    def walk(node: Any, path: tuple[str | int, ...]) -> None:
        left[0] -= 1
        if left[0] < 0:
            raise TooLarge("the document expands to more values than its size allows")
        if len(path) > MAX_DEPTH:
            raise Invalid.at(path, f"nested deeper than {MAX_DEPTH} levels", "too-deep")
        if isinstance(node, dict):
            for key, value in node.items():
                if not isinstance(key, str):
                    raise Invalid.at(path, f"mapping key {key!r} is not a string", "bad-key")
                walk(value, (*path, key))
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, (*path, i))
        elif isinstance(node, float) and not math.isfinite(node):
            raise Invalid.at(path, "numbers must be finite", "not-finite")

    walk(data, ())


def parse(body: bytes, kind: MediaKind, *, multi: bool = False) -> Any:
    data = parse_json(body) if kind == "json" else parse_yaml(body, multi=multi)
    # JSON from orjson has string keys, finite numbers and fewer values than bytes; with
    # fewer brackets than the depth limit it cannot nest too deep either.
    if kind != "json" or body.count(b"[") + body.count(b"{") > MAX_DEPTH:
        check_tree(data, len(body) + 1024)
    if kind == "yaml":
        try:
            orjson.dumps(data)
        except TypeError as exc:
            raise Invalid.at(
                (), f"the document cannot be stored as JSON: {exc}", "not-json"
            ) from None
    return data


async def read_payload(request: Request, limit: int, *, multi: bool = False) -> Any:
    """Media type (415), size (413), syntax (400), then the parsed value."""
    kind = media_kind(request)
    body = await read_body(request, limit)
    return parse(body, kind, multi=multi)
