"""The read fast path answers exactly like the routed handler, and only when it may."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from hyper_registry import NotFound, Registry
from hyper_registry.api.fastpath import EntryFastPath

from .conftest import Api, Tokens, assert_problem, doc


def _routed_then_fast(api: Api, url: str) -> tuple[Any, Any]:
    """The first read verifies the token through the routed path; the next hits the cache."""
    first = api.get(url)
    second = api.get(url)
    return first, second


def _served_by_fast_path(reg: Registry, api: Api, token: str, url: str) -> bool:
    """Whether the fast path alone answers ``url`` for ``token`` (no inner app involved)."""
    import asyncio

    app = api.client.app
    state = app.state.api  # type: ignore[attr-defined]
    called: list[bool] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        called.append(True)

    fast = EntryFastPath(inner, state)
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    scope = {
        "type": "http",
        "method": "GET",
        "path": url,
        "query_string": b"",
        "headers": [(b"authorization", f"Bearer {token}".encode())],
    }
    asyncio.run(fast(scope, receive, send))
    return not called and bool(sent)


def test_fast_answer_is_byte_identical_to_the_routed_one(reg: Registry, api: Api) -> None:
    reg.register(
        doc(
            "model:team-a/fraud@1.2.0",
            labels={"tier": "gold"},
            relations=[("trainedOn", "dataset:team-a/tx@1")],
        )
    )
    reg.set_alias("model:team-a/fraud@1.2.0", "champion")
    for url in (
        "/v1/entries/model/team-a/fraud",
        "/v1/entries/model/team-a/fraud/versions/1.2.0",
        "/v1/entries/model/team-a/fraud/versions/champion",
    ):
        api.client.app.state.api.tokens._items.clear()  # type: ignore[attr-defined]
        routed, fast = _routed_then_fast(api, url)
        assert routed.status_code == fast.status_code == 200
        assert routed.content == fast.content
        assert routed.headers["etag"] == fast.headers["etag"]
        assert routed.headers["content-type"] == fast.headers["content-type"]
        assert _served_by_fast_path(reg, api, api.token, url)


def test_refusals_go_through_the_full_application(reg: Registry, api: Api, tokens: Tokens) -> None:
    reg.register(doc("model:team-b/secret@1.0.0"))
    reg.register(doc("model:team-a/open@1.0.0"))
    reader_a = api.as_(tokens.reader_a)
    reader_a.get("/v1/entries/model/team-a/open")  # the token is now cached
    # Another namespace: the same 404 as a missing entry, from the routed handler.
    hidden = reader_a.get("/v1/entries/model/team-b/secret")
    missing = reader_a.get("/v1/entries/model/team-a/nothing")
    assert_problem(hidden, 404, "not-found")
    assert_problem(missing, 404, "not-found")
    assert not _served_by_fast_path(reg, api, tokens.reader_a, "/v1/entries/model/team-b/secret")
    # No token, a bad name, an unknown query parameter: all answered by the application.
    assert_problem(api.as_(None).get("/v1/entries/model/team-a/open"), 401)
    assert_problem(api.get("/v1/entries/model/team-a/Bad..Name"), 422)
    assert_problem(api.get("/v1/entries/model/team-a/open?x=1"), 422)
    assert_problem(api.get("/v1/entries/nokind/team-a/open"), 404)


# -- POST /v1/entries ---------------------------------------------------------------------


def _post_directly(
    api: Api, token: str, body: bytes, *, content_type: bytes = b"application/json",
    extra: list[tuple[bytes, bytes]] | None = None, chunks: int = 1, length: int | None = None,
) -> tuple[list[bytes], list[dict[str, Any]]]:  # fmt: skip
    """Call the fast path alone with a create; returns the body the inner application
    received (once per call of it) and the messages the fast path sent itself."""
    import asyncio

    state = api.client.app.state.api  # type: ignore[attr-defined]
    handed: list[bytes] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        got = b""
        while True:
            message = await receive()
            got += message.get("body", b"")
            if not message.get("more_body"):
                break
        handed.append(got)

    fast = EntryFastPath(inner, state)
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    size = max(1, -(-len(body) // chunks))
    parts = [body[i : i + size] for i in range(0, len(body), size)] or [b""]
    messages = [
        {"type": "http.request", "body": p, "more_body": i < len(parts) - 1}
        for i, p in enumerate(parts)
    ]

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/entries",
        "query_string": b"",
        "headers": [
            (b"authorization", f"Bearer {token}".encode()),
            (b"content-type", content_type),
            (b"content-length", str(len(body) if length is None else length).encode()),
            *(extra or []),
        ],
    }
    asyncio.run(fast(scope, receive, send))
    return handed, sent


def _comparable(body: dict[str, Any]) -> dict[str, Any]:
    md = dict(body["metadata"])
    for key in ("uid", "createdAt", "updatedAt", "version", "contentHash"):
        md.pop(key)
    return {**body, "metadata": md}


def test_fast_create_answers_like_the_routed_one(reg: Registry, api: Api, tokens: Tokens) -> None:
    writer = api.as_(tokens.writer)
    state = api.client.app.state.api  # type: ignore[attr-defined]
    reg.register(doc("dataset:team-a/tx@1"))
    first = doc("model:team-a/fraud@1.0.0", relations=[("trainedOn", "dataset:team-a/tx@1")])
    second = doc("model:team-a/fraud@1.1.0", relations=[("trainedOn", "dataset:team-a/tx@1")])
    state.tokens._items.clear()
    routed = writer.post("/v1/entries", json=first)  # verifies the token: routed
    fast = writer.post("/v1/entries", json=second)  # the token is cached now
    assert routed.status_code == fast.status_code == 201
    assert _comparable(routed.json()) == _comparable(fast.json())
    for name in ("content-type", "etag"):
        assert routed.headers[name] == fast.headers[name]
    assert fast.headers["location"] == "/v1/entries/model/team-a/fraud/versions/1.1.0"
    assert routed.headers["location"] == "/v1/entries/model/team-a/fraud/versions/1.0.0"
    stored = reg.get("model:team-a/fraud@1.1.0")
    assert fast.json() == api.get(fast.headers["location"]).json() == stored.to_dict()
    # And that one was the fast path's alone, the body arriving in pieces or not.
    for chunks in (1, 3):
        third = doc(f"model:team-a/fraud@1.2.{chunks}")
        handed, sent = _post_directly(api, tokens.writer, orjson.dumps(third), chunks=chunks)
        assert handed == [] and sent[0]["status"] == 201
        assert reg.get(f"model:team-a/fraud@1.2.{chunks}").revision == 1


def test_create_refusals_and_other_cases_go_through_the_application(
    reg: Registry, api: Api, tokens: Tokens
) -> None:
    writer = api.as_(tokens.writer)
    writer.post("/v1/entries", json=doc("model:team-a/warm@1.0.0"))  # caches the token
    body = orjson.dumps(doc("model:team-a/once@1.0.0"))
    assert _post_directly(api, tokens.writer, body)[1][0]["status"] == 201
    # Exists already: the commit refuses it, the application answers 409 and audits it.
    handed, sent = _post_directly(api, tokens.writer, body)
    assert handed == [body] and sent == []
    assert_problem(writer.post("/v1/entries", content=body,
                               headers={"content-type": "application/json"}), 409)  # fmt: skip
    bad = orjson.dumps(doc("model:team-a/bad@1.0.0", spec={"framework": "cobol"}))
    handed, _ = _post_directly(api, tokens.writer, bad)
    assert handed == [bad]  # invalid: handed on, body intact
    problem = assert_problem(
        writer.post("/v1/entries", content=bad, headers={"content-type": "application/json"}),
        422,
    )
    assert problem["errors"][0]["path"] == "spec.framework"
    refusals = [c for c in reg.changes() if c.op == "refuse"]
    assert {c.ref for c in refusals} >= {"model:team-a/once@1.0.0", "model:team-a/bad@1.0.0"}
    # Malformed JSON keeps its line and column (from the application).
    broken = b'{"kind": "model",\n "metadata": }'
    handed, _ = _post_directly(api, tokens.writer, broken)
    assert handed == [broken]
    malformed = writer.post("/v1/entries", content=broken,
                            headers={"content-type": "application/json"})  # fmt: skip
    assert assert_problem(malformed, 400, "malformed")["line"] == 2
    # YAML, an idempotency key, a reader's token, an invisible namespace: not the fast path.
    other = orjson.dumps(doc("model:team-a/other@1.0.0"))
    assert _post_directly(api, tokens.writer, other, content_type=b"application/yaml")[0]
    keyed = [(b"idempotency-key", b"k-1")]
    assert _post_directly(api, tokens.writer, other, extra=keyed)[0] == [other]
    api.as_(tokens.reader).get("/v1/entries/model/team-a/warm")  # caches the reader
    assert _post_directly(api, tokens.reader, other)[0] == [other]
    assert_problem(api.as_(tokens.reader).post("/v1/entries", json=doc("model:team-a/r@1.0.0")),
                   403)  # fmt: skip
    writer_a = api.as_(tokens.writer_a)
    writer_a.post("/v1/entries", json=doc("model:team-a/a@1.0.0"))  # caches writer_a
    hidden = orjson.dumps(doc("model:team-b/hidden@1.0.0"))
    assert _post_directly(api, tokens.writer_a, hidden)[0] == [hidden]
    assert_problem(writer_a.post("/v1/entries", content=hidden,
                                 headers={"content-type": "application/json"}), 404)  # fmt: skip
    # A body longer or shorter than its Content-Length, or over the document limit: the
    # application's to refuse.
    for length in (5, len(other) + 5):
        assert _post_directly(api, tokens.writer, other, length=length) == ([other], [])
    big = reg.settings.max_document_bytes + 1
    assert _post_directly(api, tokens.writer, other, length=big)[1] == []
    # None of the handed-on creates was written by the fast path.
    for ref in ("model:team-a/bad@1.0.0", "model:team-a/other@1.0.0", "model:team-b/hidden@1.0.0"):
        with pytest.raises(NotFound):
            reg.get(ref)


def test_concurrent_creates_over_a_live_server(reg: Registry, live: Any, tokens: Tokens) -> None:
    """Many clients at once, duplicates among them: every create answered once (201 or 409),
    every created entry stored once, the refusals audited."""
    import asyncio

    import httpx

    headers = {"Authorization": f"Bearer {tokens.writer}"}
    names = [f"m{i % 40}" for i in range(120)]  # each name three times

    async def main() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=live.url, headers=headers, timeout=30) as client:
            await client.post("/v1/entries", json=doc("model:team-a/warm@1.0.0"))  # cache token
            return await asyncio.gather(
                *(client.post("/v1/entries", json=doc(f"model:team-a/{n}@1.0.0")) for n in names)
            )

    answers = asyncio.run(main())
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] * 40 + [409] * 80
    for a in answers:
        if a.status_code == 409:
            assert a.headers["content-type"].startswith("application/problem+json")
        else:
            assert a.headers["location"].endswith("/versions/1.0.0")
    assert reg.count() == 41
    creates = [c for c in reg.changes() if c.op == "create"]
    assert len(creates) == 41 and len({c.ref for c in creates}) == 41
    assert len([c for c in reg.changes() if c.op == "refuse"]) == 80
