"""The change log: ``GET /v1/changes`` (pages) and ``GET /v1/changes/stream`` (SSE).

The stream polls the change log (every ``poll_interval`` seconds, 0.5 by default),
sends each record as ``id: <seq>`` / ``event: change`` / ``data: <json>``, a comment
line as a heartbeat when idle, resumes after ``Last-Event-ID`` (or ``?since=``), and
ends when the client disconnects or its token stops being valid. A token scoped to
namespaces sees only their changes.
"""

import logging
import re
import time
from collections.abc import AsyncIterator
from typing import Annotated

import anyio
import orjson
from fastapi import APIRouter, Query, Request
from starlette.responses import Response, StreamingResponse

from hyper_registry.api import responses as r
from hyper_registry.api.auth import AuthenticatedRoute, principal_of
from hyper_registry.api.schemas import ChangePage
from hyper_registry.api.state import ApiState, api_state
from hyper_registry.auth.tokens import Principal
from hyper_registry.core.errors import HyperRegistryError, Invalid
from hyper_registry.core.settings import Settings

log = logging.getLogger("hyper_registry.api")

STREAM_BATCH = 500
_SEQ = re.compile(r"[0-9]{1,18}")
MAX_SEQ = 2**62


def _last_event_id(header: str | None, since: int) -> int:
    if header is None:
        return since
    text = header.strip()
    if not _SEQ.fullmatch(text):
        raise Invalid.at(("header", "Last-Event-ID"), "must be a change sequence number", "bad-seq")
    return int(text)


async def _events(
    request: Request, state: ApiState, principal: Principal, token: str, since: int
) -> AsyncIterator[bytes]:
    last = since
    yield b"retry: 2000\n\n"
    idle_since = time.monotonic()
    checked = time.monotonic()
    while True:
        if await request.is_disconnected():
            return
        now = time.monotonic()
        try:
            if now - checked >= state.tokens.ttl:
                checked = now
                if await state.read(state.tokens.verify, token) is None:
                    return  # revoked: the stream ends within the cache TTL
            records = await state.read(
                state.registry.changes,
                last,
                STREAM_BATCH,
                principal.visible,
                audit=principal.at_least("admin"),
            )
        except HyperRegistryError as exc:
            # Headers are sent: end the stream; the client reconnects with Last-Event-ID.
            log.warning("change stream ended: %s", exc)
            return
        if records:
            chunk = b"".join(
                b"id: %d\nevent: change\ndata: %s\n\n" % (rec.seq, orjson.dumps(rec.to_dict()))
                for rec in records
            )
            last = records[-1].seq
            idle_since = time.monotonic()
            yield chunk
            if len(records) == STREAM_BATCH:
                continue
        elif time.monotonic() - idle_since >= state.heartbeat_interval:
            idle_since = time.monotonic()
            yield b": heartbeat\n\n"
        await anyio.sleep(state.poll_interval)


def router(settings: Settings) -> APIRouter:
    api = APIRouter(
        prefix="/v1/changes",
        tags=["changes"],
        route_class=AuthenticatedRoute,
    )
    max_page = max(settings.max_page_size, 1)

    @api.get(
        "",
        responses={
            200: {"model": ChangePage, "description": "changes after `since`"},
            **r.problems(),
        },
        summary="Read the change log",
    )
    async def changes(
        request: Request,
        since: Annotated[int, Query(ge=0, le=MAX_SEQ, description="after this sequence")] = 0,
        limit: Annotated[int, Query(ge=1, le=max_page, description=f"at most {max_page}")] = min(
            100, max_page
        ),
    ) -> Response:
        principal = principal_of(request)
        state = api_state(request)
        records = await state.read(
            state.registry.changes,
            since,
            limit,
            principal.visible,
            audit=principal.at_least("admin"),
        )
        return r.json(
            {"items": [c.to_dict() for c in records], "next": records[-1].seq if records else since}
        )

    @api.get(
        "/stream",
        response_class=StreamingResponse,
        openapi_extra={
            "parameters": [
                {
                    "name": "Last-Event-ID",
                    "in": "header",
                    "required": False,
                    "description": "resume after this change (wins over ?since=)",
                    "schema": {"type": "string", "pattern": "^[0-9]{1,18}$"},
                }
            ]
        },
        responses={
            200: {
                "description": "a Server-Sent Events stream of changes",
                "content": {"text/event-stream": {"schema": {"type": "string"}}},
            },
            **r.problems(),
        },
        summary="Follow the change log (Server-Sent Events)",
    )
    async def stream(
        request: Request,
        since: Annotated[int, Query(ge=0, le=MAX_SEQ, description="after this sequence")] = 0,
    ) -> StreamingResponse:
        principal = principal_of(request)
        state = api_state(request)
        start = _last_event_id(request.headers.get("last-event-id"), since)
        auth = request.headers.get("authorization", "")
        token = auth.split(" ", 1)[1].strip() if " " in auth else ""
        return StreamingResponse(
            _events(request, state, principal, token, start),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    return api
