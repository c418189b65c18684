"""Routes for stream and bulk ingestion: ``POST /v1/bulk``, dead letters, ``GET /metrics``.

- ``POST /v1/bulk``: an NDJSON body (one message per line, see docs/ingest.md), read
  as a stream and applied in batches as it arrives; the answer has one result per
  line. Lines in namespaces the token cannot see are refused like any other item.
  Refused lines are answered, not dead-lettered (the caller has the answer).
- ``GET /v1/dlq`` and ``POST /v1/dlq/replay``: dead letters of the namespaces the token
  sees (those without a namespace, such as lines that are not JSON, only to tokens
  for every namespace).
- ``GET /metrics``: Prometheus text; it needs a token like every other route (any
  role): counts of the whole registry are not for anonymous callers. Prometheus
  sends it with ``authorization: {credentials_file: ...}``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field, StrictBool, StrictInt
from starlette.responses import Response

from hyper_registry.api import responses as r
from hyper_registry.api.auth import AuthenticatedRoute, principal_of, require_role
from hyper_registry.api.errors import ApiProblem
from hyper_registry.api.state import api_state
from hyper_registry.core.errors import Invalid, TooLarge
from hyper_registry.core.settings import Settings
from hyper_registry.ingest import dlq
from hyper_registry.ingest.applier import DEAD_PAYLOAD_MAX, OUTCOMES, Applier
from hyper_registry.ingest.messages import Raw
from hyper_registry.ingest.metrics import CONTENT_TYPE, IngestMetrics

NDJSON_TYPES = frozenset(
    {"application/x-ndjson", "application/ndjson", "application/jsonl", "application/json-lines"}
)


class ReplayRequest(BaseModel):
    model_config = {"extra": "forbid"}
    ids: list[StrictInt] | None = Field(default=None, max_length=10_000)
    all: StrictBool = False


def _lines(max_bytes: int) -> Any:
    """A splitter of streamed chunks into messages, bounded per line."""
    state: dict[str, Any] = {"buf": bytearray(), "line": 0, "skip": 0, "head": b""}

    def feed(chunk: bytes, final: bool = False) -> list[Raw]:
        out: list[Raw] = []
        buf: bytearray = state["buf"]
        buf.extend(chunk)
        start = 0
        while True:
            nl = buf.find(b"\n", start)
            if nl < 0:
                break
            state["line"] += 1
            if state["skip"]:
                size = state["skip"] + nl - start
                out.append(Raw(state["head"], f"line {state['line']}", oversize=size))
                state["skip"] = 0
            else:
                line = bytes(buf[start:nl]).rstrip(b"\r")
                if line.strip():
                    out.append(Raw(line, f"line {state['line']}"))
            start = nl + 1
        del buf[:start]
        if len(buf) > max_bytes:  # a line over the limit: keep its head, drop the rest
            if not state["skip"]:
                state["head"] = bytes(buf[:DEAD_PAYLOAD_MAX])
            state["skip"] += len(buf)
            buf.clear()
        if final:
            if state["skip"]:
                state["line"] += 1
                out.append(Raw(state["head"], f"line {state['line']}", oversize=state["skip"]))
            elif buf.strip():
                state["line"] += 1
                out.append(Raw(bytes(buf), f"line {state['line']}"))
            buf.clear()
        return out

    return feed


def router(settings: Settings) -> APIRouter:
    api = APIRouter(tags=["ingest"], route_class=AuthenticatedRoute)
    batch_size = settings.ingest_batch_size

    @api.post(
        "/v1/bulk",
        summary="Apply a stream of changes (NDJSON), one result per line",
        responses={200: {"description": "one result per line"}, **r.problems(403, 413, 415)},
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
            }
        },
    )
    async def bulk(request: Request) -> Response:
        principal = principal_of(request)
        state = api_state(request)
        require_role(principal, "writer")
        media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media not in NDJSON_TYPES:
            raise ApiProblem(
                415,
                f"{media or 'no Content-Type'!r} is not accepted here; send application/x-ndjson",
                headers={"Accept": "application/x-ndjson"},
            )
        limit = state.max_bulk_bytes
        length = request.headers.get("content-length")
        if length is not None and length.strip().isdigit() and int(length) > limit:
            raise TooLarge(f"the request body is {int(length)} bytes; the limit is {limit}")
        registry = state.registry
        applier = Applier(
            registry,
            source=f"http:{principal.name}",
            label="http",
            principal=principal,
            record_dead=False,
            metrics=registry.extension(IngestMetrics),
        )
        feed = _lines(registry.settings.ingest_max_message_bytes)
        items: list[dict[str, Any]] = []
        counts = dict.fromkeys(OUTCOMES, 0)
        pending: list[Raw] = []
        total = 0

        async def flush() -> None:
            report = await state.write(applier.apply, list(pending), detail=True)
            base = len(items)
            assert report.items is not None
            for item in report.items:
                item["index"] += base
                items.append(item)
            for k, v in report.counts.items():
                counts[k] += v
            pending.clear()

        async for chunk in request.stream():
            total += len(chunk)
            if total > limit:
                raise TooLarge(
                    f"the request body is over the limit of {limit} bytes; the first "
                    f"{len(items)} lines were applied (resend the rest: event ids make "
                    "a repeat harmless)"
                )
            pending.extend(feed(chunk))
            if len(pending) >= batch_size:
                await flush()
        pending.extend(feed(b"", True))
        if pending:
            await flush()
        counts["refused"] = counts.pop("dead")
        return r.json({"results": items, "counts": counts})

    @api.get("/v1/dlq", summary="Open dead letters, oldest first", responses=r.problems(403))
    async def dlq_list(
        request: Request,
        limit: Annotated[int, Query(ge=1, le=dlq.MAX_LIMIT)] = 100,
        after: Annotated[
            int | None, Query(description="cursor: nextCursor of the last page")
        ] = None,
        code: Annotated[str | None, Query(max_length=32)] = None,
        all: Annotated[bool, Query(description="include replayed ones")] = False,
    ) -> Response:
        principal = principal_of(request)
        require_role(principal, "reader")
        state = api_state(request)
        out = await state.offload(
            dlq.list_dead,
            state.registry,
            principal=principal,
            include_replayed=all,
            limit=limit,
            after=after,
            code=code,
        )
        return r.json(out)

    @api.post(
        "/v1/dlq/replay",
        summary="Replay dead letters through the write pipeline",
        responses=r.problems(400, 403, 404),
    )
    async def dlq_replay(request: Request, body: ReplayRequest) -> Response:
        principal = principal_of(request)
        require_role(principal, "writer")
        if (body.ids is None) == (not body.all):
            raise Invalid.at(("body",), "give either ids or all=true")
        state = api_state(request)
        out = await state.write(
            dlq.replay, state.registry, ids=None if body.all else body.ids, principal=principal
        )
        return r.json(out)

    @api.get(
        "/metrics",
        summary="Prometheus metrics (ingestion)",
        responses={
            200: {"content": {"text/plain": {}}, "description": "Prometheus text format"},
            **r.problems(),
        },
    )
    async def metrics(request: Request) -> Response:
        principal_of(request)
        state = api_state(request)
        body = state.registry.extension(IngestMetrics).render()
        return Response(body, media_type=CONTENT_TYPE)

    return api
