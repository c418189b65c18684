"""Errors: one problem+json shape for every refusal, limits, malformed bodies, no leaks."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi import FastAPI

from hyper_registry import Registry, Settings, Unavailable
from hyper_registry.api import create_app

from .conftest import Api, TestClient, Tokens, assert_problem, doc, entry_url

MODEL = "model:team-a/fraud@1.0.0"


def asgi_call(
    app: FastAPI,
    method: str,
    raw_path: bytes,
    headers: list[tuple[bytes, bytes]],
    chunks: list[bytes] | None = None,
) -> tuple[int, dict[str, str], bytes, int]:
    """Call the app without an HTTP client (no URL normalisation); returns the number of
    body chunks the app read as the last item."""
    from urllib.parse import unquote_to_bytes

    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": unquote_to_bytes(raw_path.split(b"?")[0]).decode("utf-8", "replace"),
        "raw_path": raw_path.split(b"?")[0],
        "query_string": raw_path.split(b"?")[1] if b"?" in raw_path else b"",
        "root_path": "",
        "headers": [(b"host", b"test"), *headers],
        "client": ("127.0.0.1", 1),
        "server": ("test", 80),
        "state": {},
    }
    pending = list(chunks or [])
    reads = [0]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        reads[0] += 1
        if pending:
            return {"type": "http.request", "body": pending.pop(0), "more_body": bool(pending)}
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = sent[0]
    body = b"".join(m.get("body", b"") for m in sent[1:])
    hdrs = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    return start["status"], hdrs, body, reads[0]


@pytest.fixture
def small_app(tmp_path: Path) -> Iterator[tuple[FastAPI, str]]:
    settings = Settings(data_dir=tmp_path / "small", max_document_bytes=2048, max_bulk_bytes=8192)
    reg = Registry.open(settings)
    _, token = reg.tokens.create("admin", "admin", None)
    try:
        yield create_app(reg), token
    finally:
        reg.close()


def test_problem_document_shape(api: Api) -> None:
    r = api.get("/v1/entries/model/team-a/none")
    body = assert_problem(r, 404, "not-found")
    assert set(body) == {"type", "title", "status", "detail", "code", "errors", "instance"}
    assert body["title"] == "Not found"


def test_validation_problem_lists_field_paths(api: Api) -> None:
    bad = doc(MODEL)
    bad["metadata"]["name"] = "Not Valid"
    bad["metadata"]["labels"] = {"bad key!": "x"}
    body = assert_problem(api.post("/v1/entries", json=bad), 422, "invalid")
    paths = {e["path"] for e in body["errors"]}
    assert "metadata.name" in paths
    assert any(p.startswith("metadata.labels") for p in paths)
    for e in body["errors"]:
        assert set(e) == {"path", "message", "code"}


def test_content_length_over_limit_is_413_before_reading(small_app: tuple[FastAPI, str]) -> None:
    app, token = small_app
    status, headers, body, reads = asgi_call(
        app,
        "POST",
        b"/v1/entries",
        [
            (b"authorization", f"Bearer {token}".encode()),
            (b"content-type", b"application/json"),
            (b"content-length", b"1000000"),
        ],
        chunks=[b"x" * 1000] * 1000,
    )
    assert status == 413
    assert headers["content-type"] == "application/problem+json"
    assert orjson.loads(body)["code"] == "too-large"
    assert reads == 0


def test_streamed_body_over_limit_is_413(small_app: tuple[FastAPI, str]) -> None:
    app, token = small_app
    status, _, body, reads = asgi_call(
        app,
        "POST",
        b"/v1/entries",
        [(b"authorization", f"Bearer {token}".encode()), (b"content-type", b"application/json")],
        chunks=[b" " * 1000] * 50,
    )
    assert status == 413
    assert orjson.loads(body)["code"] == "too-large"
    assert reads < 50  # stopped reading once over the limit


def test_chunked_upload_over_limit_via_client(small_app: tuple[FastAPI, str]) -> None:
    app, token = small_app

    def gen() -> Iterator[bytes]:
        for _ in range(20):
            yield b" " * 1000

    with TestClient(app) as c:
        r = c.post(
            "/v1/entries",
            content=gen(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
    assert_problem(r, 413, "too-large")


def test_bulk_limit_applies_to_apply(small_app: tuple[FastAPI, str]) -> None:
    app, token = small_app
    docs = [doc(f"dataset:bulk/d{i}@v1") for i in range(100)]
    body = orjson.dumps(docs)
    assert len(body) > 8192
    with TestClient(app) as c:
        h = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        assert_problem(c.post("/v1/apply", content=body, headers=h), 413)
        small = orjson.dumps(docs[:20])
        assert 2048 < len(small) < 8192
        r = c.post("/v1/apply", content=small, headers=h)
        assert r.status_code == 200, r.text
        assert_problem(c.post("/v1/entries", content=small, headers=h), 413)


@pytest.mark.parametrize("ctype", ["text/plain", "application/xml", "multipart/form-data", None])
def test_wrong_content_type_is_415(api: Api, ctype: str | None) -> None:
    headers = {"Content-Type": ctype} if ctype else {}
    r = api.post("/v1/entries", content=orjson.dumps(doc(MODEL)), headers=headers)
    body = assert_problem(r, 415, "unsupported-media-type")
    assert "application/json" in body["detail"]


def test_json_with_charset_is_fine(api: Api) -> None:
    r = api.post(
        "/v1/entries",
        content=orjson.dumps(doc(MODEL)),
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert r.status_code == 201


def test_malformed_json_names_line_and_column(api: Api) -> None:
    text = b'{\n  "kind": "model",\n  "metadata": {,\n}'
    r = api.post("/v1/entries", content=text, headers={"Content-Type": "application/json"})
    body = assert_problem(r, 400, "malformed")
    assert body["line"] == 3 and body["column"] == 16
    assert "line 3, column 16" in body["detail"]
    assert body["errors"][0]["code"] == "malformed-json"


def test_malformed_yaml_names_line_and_column(api: Api) -> None:
    text = b"kind: model\nmetadata:\n  name: [a, b\n  namespace: x\n"
    r = api.post("/v1/entries", content=text, headers={"Content-Type": "application/yaml"})
    body = assert_problem(r, 400, "malformed")
    assert body["line"] == 4
    assert isinstance(body["column"], int)
    assert body["errors"][0]["code"] == "malformed-yaml"


def test_empty_and_non_utf8_bodies(api: Api) -> None:
    h = {"Content-Type": "application/json"}
    assert_problem(api.post("/v1/entries", content=b"", headers=h), 400, "malformed")
    assert_problem(api.post("/v1/entries", content=b'{"a": "\xff"}', headers=h), 400)
    y = {"Content-Type": "application/yaml"}
    assert_problem(api.post("/v1/entries", content=b"", headers=y), 400)
    assert_problem(api.post("/v1/entries", content=b"a: \xff\xfe", headers=y), 400)


def test_yaml_keeps_dates_as_text(api: Api) -> None:
    text = (
        b"kind: dataset\nmetadata:\n  namespace: team-a\n  name: rows\n  version: 2024-01-05\n"
        b"spec: {}\n"
    )
    r = api.post("/v1/entries", content=text, headers={"Content-Type": "application/yaml"})
    assert r.status_code == 201, r.text
    assert r.json()["metadata"]["version"] == "2024-01-05"


def test_yaml_tags_json_cannot_hold_are_refused(api: Api) -> None:
    h = {"Content-Type": "application/yaml"}
    for text in (
        b"kind: model\nspec: !!binary aGVsbG8=\n",
        b"kind: model\nspec: !!set {a, b}\n",
        b"kind: !!python/object:os.system {}\n",
    ):
        body = assert_problem(api.post("/v1/entries", content=text, headers=h), 400, "malformed")
        assert body["line"] == 2 or body["line"] == 1


def test_yaml_alias_bomb_is_413(api: Api) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    lines.append("kind: model")
    text = "\n".join(lines).encode()
    r = api.post("/v1/apply", content=text, headers={"Content-Type": "application/yaml"})
    assert_problem(r, 413, "too-large")


def test_deep_nesting_is_422_not_500(api: Api) -> None:
    d = doc("dataset:team-a/deep@v1")
    node: dict[str, Any] = {}
    d["spec"]["x"] = node
    for _ in range(150):
        node["n"] = {}
        node = node["n"]
    r = api.post(
        "/v1/entries", content=orjson.dumps(d), headers={"Content-Type": "application/json"}
    )
    body = assert_problem(r, 422)
    assert body["errors"][0]["code"] == "too-deep"
    deep_yaml = b"kind: model\nspec: " + b"[" * 900 + b"]" * 900
    r = api.post("/v1/entries", content=deep_yaml, headers={"Content-Type": "application/yaml"})
    assert r.status_code in (400, 422)


def test_non_finite_numbers_and_odd_keys_from_yaml(api: Api) -> None:
    h = {"Content-Type": "application/yaml"}
    base = b"kind: dataset\nmetadata: {namespace: team-a, name: x, version: v1}\n"
    body = assert_problem(
        api.post("/v1/entries", content=base + b"spec: {a: .nan}\n", headers=h), 422
    )
    assert body["errors"][0]["path"] == "spec.a"
    body = assert_problem(
        api.post("/v1/entries", content=base + b"spec: {a: {1: x}}\n", headers=h), 422
    )
    assert body["errors"][0]["code"] == "bad-key"
    big = base + b"spec: {a: 123456789012345678901234567890}\n"
    assert_problem(api.post("/v1/entries", content=big, headers=h), 422)
    surrogate = base + b'spec: {a: "\\ud800"}\n'
    r = api.post("/v1/entries", content=surrogate, headers=h)
    assert r.status_code in (400, 422), r.text


def test_multiple_yaml_documents_on_a_single_route(api: Api) -> None:
    text = b"kind: model\n---\nkind: model\n"
    r = api.post("/v1/entries", content=text, headers={"Content-Type": "application/yaml"})
    body = assert_problem(r, 422)
    assert body["errors"][0]["code"] == "one-document"


def test_unknown_route_and_method(api: Api) -> None:
    assert_problem(api.get("/v1/nothing-here"), 404, "not-found")
    r = api.request("PATCH", "/v1/entries/model/team-a/fraud")
    body = assert_problem(r, 405, "method-not-allowed")
    assert "GET" in r.headers["allow"]
    assert body["instance"] == "/v1/entries/model/team-a/fraud"


@pytest.mark.parametrize(
    "path",
    [
        b"/v1/entries/model/team-a/..",
        b"/v1/entries/model/../etc",
        b"/v1/entries/model/team-a/a..b",
        b"/v1/entries/model/team-a/%00",
        b"/v1/entries/model/team-a/a%00b",
        b"/v1/entries/model/team-a/a%2Fb",
        b"/v1/entries/model/team-a/a%2F..%2F..",
        b"/v1/entries/model/team-a/UPPER",
        b"/v1/entries/model/team-a/fraud/versions/..",
        b"/v1/entries/model/team-a/fraud/versions/%2E%2E",
        b"/v1/entries/model/team-a/" + b"a" * 300,
        b"/v1/entries/MODEL/team-a/fraud",
        b"/v1/graph/model/team-a/..%2F/impact",
        b"/v1/entries/model/team-a/%C3%A9",
        b"/v1/entries/model/team-a/%FF",
    ],
)
def test_names_outside_the_grammar_are_4xx_never_500(
    app: FastAPI, tokens: Tokens, path: bytes
) -> None:
    for method in ("GET", "PUT", "DELETE"):
        status, headers, body, _ = asgi_call(
            app,
            method,
            path,
            [
                (b"authorization", f"Bearer {tokens.admin}".encode()),
                (b"content-type", b"application/json"),
            ],
            chunks=[orjson.dumps(doc(MODEL))],
        )
        assert status in (400, 404, 405, 422), (method, path, status, body)
        assert headers["content-type"] == "application/problem+json"
        problem = orjson.loads(body)
        assert problem["status"] == status


def test_unexpected_error_is_a_bare_500(
    api: Api, reg: Registry, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("SELECT secret FROM /var/lib/db.sqlite")

    monkeypatch.setattr(reg, "get", boom)
    r = api.get("/v1/entries/model/team-a/fraud")
    body = assert_problem(r, 500, "internal")
    text = r.text
    assert "SELECT" not in text and "/var/lib" not in text and "Traceback" not in text
    assert "RuntimeError" not in text
    assert any("SELECT secret" in str(rec.exc_info) for rec in caplog.records if rec.exc_info)
    assert body["detail"]


def test_unavailable_is_503(api: Api, reg: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    def down(*args: object, **kwargs: object) -> None:
        raise Unavailable("the database is unavailable: disk I/O error")

    monkeypatch.setattr(reg, "get", down)
    assert_problem(api.get(entry_url(MODEL)), 503, "unavailable")
