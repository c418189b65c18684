"""The change stream (Server-Sent Events) against a live uvicorn on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx
import orjson

from hyper_registry import Registry

from .conftest import Live, Tokens, doc


@dataclass
class Event:
    id: int | None = None
    event: str | None = None
    data: dict[str, object] = field(default_factory=dict)


class Stream:
    """Reads events (and comments) from an open SSE response."""

    def __init__(self, response: httpx.Response) -> None:
        self.lines = response.iter_lines()
        self.comments: list[str] = []
        self.retry: int | None = None

    def next_event(self, timeout: float = 5.0) -> Event:
        deadline = time.monotonic() + timeout
        ev = Event()
        seen = False
        for line in self.lines:
            assert time.monotonic() < deadline, "no event in time"
            if line == "":
                if seen:
                    return ev
                continue
            if line.startswith(":"):
                self.comments.append(line)
                continue
            key, _, value = line.partition(": ")
            if key == "retry":
                self.retry = int(value)
            elif key == "id":
                ev.id, seen = int(value), True
            elif key == "event":
                ev.event = value
            elif key == "data":
                ev.data = orjson.loads(value)
        raise AssertionError("the stream ended")


@contextmanager
def stream(
    live: Live,
    token: str,
    *,
    headers: dict[str, str] | None = None,
    params: dict[str, object] | None = None,
) -> Iterator[httpx.Response]:
    h = {"Authorization": f"Bearer {token}", **(headers or {})}
    with (
        httpx.Client(base_url=live.url, timeout=httpx.Timeout(10.0)) as client,
        client.stream("GET", "/v1/changes/stream", headers=h, params=params) as response,
    ):
        yield response


def _last_seq(reg: Registry) -> int:
    """The change log already holds the token management rows of the fixtures."""
    rows = reg.changes(0, 10_000)
    return rows[-1].seq if rows else 0


def test_stream_sends_past_and_new_changes(live: Live, reg: Registry, tokens: Tokens) -> None:
    base = _last_seq(reg)
    reg.apply(doc("model:team-a/one@1.0.0"))
    reg.apply(doc("model:team-a/two@1.0.0"))
    with stream(live, tokens.reader) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        assert r.headers["cache-control"] == "no-cache"
        s = Stream(r)
        first, second = s.next_event(), s.next_event()
        assert s.retry == 2000
        assert (first.id, first.event) == (base + 1, "change")
        assert first.data["ref"] == "model:team-a/one@1.0.0" and first.data["op"] == "create"
        assert second.id == base + 2
        httpx.put(
            f"{live.url}/v1/entries/model/team-a/three/versions/1.0.0",
            json=doc("model:team-a/three@1.0.0"),
            headers={"Authorization": f"Bearer {tokens.writer}"},
        ).raise_for_status()
        third = s.next_event()
        assert third.id == base + 3 and third.data["actor"] == "writer"


def test_stream_resumes_after_last_event_id(live: Live, reg: Registry, tokens: Tokens) -> None:
    b = _last_seq(reg)
    for i in range(4):
        reg.apply(doc(f"model:team-a/m{i}@1.0.0"))
    with stream(live, tokens.reader, headers={"Last-Event-ID": str(b + 2)}) as r:
        assert Stream(r).next_event().id == b + 3
    with stream(live, tokens.reader, params={"since": b + 3}) as r:
        assert Stream(r).next_event().id == b + 4
    with stream(
        live, tokens.reader, params={"since": 0}, headers={"Last-Event-ID": str(b + 3)}
    ) as r:
        assert Stream(r).next_event().id == b + 4  # Last-Event-ID wins over ?since=


def test_stream_heartbeats_when_idle(live: Live, tokens: Tokens) -> None:
    with stream(live, tokens.reader) as r:
        s = Stream(r)
        deadline = time.monotonic() + 5
        for line in s.lines:
            if line.startswith(":"):
                break
            assert time.monotonic() < deadline
        else:
            raise AssertionError("the stream ended")


def test_scoped_token_sees_only_its_namespaces(live: Live, reg: Registry, tokens: Tokens) -> None:
    base = _last_seq(reg)
    reg.apply(doc("model:team-b/hidden@1.0.0"))
    reg.apply(doc("model:team-a/mine@1.0.0"))
    reg.apply(doc("model:team-b/hidden2@1.0.0"))
    with stream(live, tokens.reader_a) as r:
        s = Stream(r)
        ev = s.next_event()
        assert ev.id == base + 2 and ev.data["namespace"] == "team-a"
        reg.apply(doc("model:team-b/later@1.0.0"))
        reg.apply(doc("model:team-a/later@1.0.0"))
        ev = s.next_event()
        assert ev.data["ref"] == "model:team-a/later@1.0.0"


def test_stream_needs_a_token(live: Live) -> None:
    r = httpx.get(f"{live.url}/v1/changes/stream")
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["www-authenticate"].startswith("Bearer")
    bad = httpx.get(
        f"{live.url}/v1/changes/stream", headers={"Last-Event-ID": "x"}, params={"since": "-1"}
    )
    assert bad.status_code == 401


def test_bad_last_event_id(live: Live, tokens: Tokens) -> None:
    r = httpx.get(
        f"{live.url}/v1/changes/stream",
        headers={"Authorization": f"Bearer {tokens.reader}", "Last-Event-ID": "abc"},
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["path"] == "header.Last-Event-ID"


def test_stream_ends_when_the_client_disconnects(live: Live, tokens: Tokens) -> None:
    with stream(live, tokens.reader) as r:
        assert r.status_code == 200
        deadline = time.monotonic() + 5
        while not live.server.server_state.connections:
            assert time.monotonic() < deadline
            time.sleep(0.02)
    deadline = time.monotonic() + 5
    while live.server.server_state.connections or live.server.server_state.tasks:
        assert time.monotonic() < deadline, "the server kept the stream open"
        time.sleep(0.05)


def test_stream_ends_when_the_token_is_revoked(live: Live, reg: Registry) -> None:
    info, token = reg.tokens.create("temp", "reader", None)
    with stream(live, token) as r:
        s = Stream(r)
        reg.tokens.revoke(info.id)
        deadline = time.monotonic() + 5
        for _ in s.lines:
            assert time.monotonic() < deadline, "the stream outlived its token"
