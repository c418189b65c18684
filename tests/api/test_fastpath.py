"""The read fast path answers exactly like the routed handler, and only when it may."""

from __future__ import annotations

from typing import Any

from hyper_registry import Registry
from hyper_registry.api.fastpath import EntryReadFastPath

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

    fast = EntryReadFastPath(inner, state)
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
