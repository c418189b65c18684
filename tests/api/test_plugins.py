"""The plugin routes: push a module, run an export; problems, roles and namespaces."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from .conftest import Api, Tokens, assert_problem

PLUGINS = Path(__file__).parent.parent / "fixtures" / "plugins"


def wat(name: str) -> bytes:
    return (PLUGINS / f"{name}.wat").read_bytes()


def push(api: Api, ref: str, body: bytes, media: str = "text/plain", **params: object) -> Any:
    return api.post(
        f"/v1/plugins/{ref}", content=body, headers={"Content-Type": media}, params=params
    )


def test_push_then_run(api: Api) -> None:
    res = push(api, "team-a/add/1.0.0", wat("add"), export=["add"], title="Adder")
    assert res.status_code == 201, res.text
    body = res.json()
    assert body["metadata"]["title"] == "Adder"
    assert body["spec"]["module"]["digest"].startswith("sha256:")
    assert body["status"]["wasm"]["exports"][0] == {"name": "add", "kind": "func"}
    assert res.headers["Location"] == "/v1/entries/plugin/team-a/add/versions/1.0.0"
    run = api.post("/v1/plugins/team-a/add/1.0.0/run", json={"export": "add", "args": [40, "2"]})
    assert run.status_code == 200, run.text
    out = run.json()
    assert (out["results"], out["ref"], out["exitCode"]) == ([42], "plugin:team-a/add@1.0.0", None)
    latest = api.post("/v1/plugins/team-a/add/run", json={"export": "half", "args": [3]})
    assert latest.json()["results"] == [1.5]


def test_push_binary_with_stdin(api: Api) -> None:
    import wasmtime

    binary = bytes(wasmtime.wat2wasm(wat("hello").decode()))
    assert push(api, "team-a/hello/1.0.0", binary, "application/wasm").status_code == 201
    res = api.post(
        "/v1/plugins/team-a/hello/1.0.0/run",
        json={"export": "_start", "stdinBase64": base64.b64encode(b"api\n").decode()},
    )
    assert res.json()["stdout"] == "hello api\n"
    res = api.post("/v1/plugins/team-a/hello/1.0.0/run", json={"export": "_start", "stdin": "x"})
    assert res.json()["stderr"] == "a warning\n"


def test_permission_mismatch_lists_imports(api: Api) -> None:
    res = push(api, "team-a/files/1.0.0", wat("files"), permission=["env"])
    body = assert_problem(res, 422, "invalid")
    assert body["errors"][0]["code"] == "permission-mismatch"
    assert "wasi_snapshot_preview1.path_open" in body["errors"][0]["message"]
    assert api.get("/v1/entries/plugin/team-a/files").status_code == 404
    assert push(api, "team-a/files/1.0.0", wat("files"), permission=["fs:read"]).status_code == 201


def test_bad_uploads(api: Api) -> None:
    assert_problem(
        push(api, "team-a/x/1.0.0", b"\x7fELF\x02\x01" + b"\0" * 64, "application/wasm"), 422
    )
    body = assert_problem(
        push(api, "team-a/x/1.0.0", b"\0asm\x01\0\0\0\x01\x05", "application/wasm"), 422
    )
    assert body["errors"][0]["code"] == "bad-wasm"
    body = assert_problem(push(api, "team-a/x/1.0.0", b"(module (func $f"), 422)
    assert body["errors"][0]["code"] == "bad-wat"
    assert_problem(push(api, "team-a/x/1.0.0", wat("add"), "application/json"), 415)
    assert_problem(push(api, "team-a/x/1.0", wat("add")), 422)
    assert_problem(push(api, "team-a/x/1.0.0", wat("add"), sandboxing="loose"), 422)
    assert_problem(push(api, "team-a/x/1.0.0", wat("add"), bogus="1"), 422)
    assert push(api, "team-a/x/1.0.0", wat("add")).status_code == 201
    assert_problem(push(api, "team-a/x/1.0.0", wat("add")), 409, "already-exists")


def test_oversized_upload(api: Api) -> None:
    limit = 8 * 1024 * 1024
    assert_problem(
        push(api, "team-a/big/1.0.0", b"\0asm\x01\0\0\0" + b"\0" * limit, "application/wasm"), 413
    )


def test_run_failures_are_problems_and_the_server_keeps_serving(api: Api) -> None:
    for name in ("loop", "membomb", "trap", "recursion", "add"):
        assert push(api, f"team-a/{name}/1.0.0", wat(name)).status_code == 201
    cases = [
        ("loop", "spin", [], "plugin-fuel"),
        ("membomb", "bomb", [], "plugin-memory"),
        ("trap", "boom", [], "plugin-trap"),
        ("recursion", "recurse", [0], "plugin-stack"),
    ]
    for name, export, args, code in cases:
        res = api.post(
            f"/v1/plugins/team-a/{name}/1.0.0/run", json={"export": export, "args": args}
        )
        body = assert_problem(res, 422, code)
        assert body["title"] == "Plugin run failed"
        assert "Traceback" not in res.text and "/work" not in res.text
        ok = api.post("/v1/plugins/team-a/add/1.0.0/run", json={"export": "add", "args": [1, 1]})
        assert ok.json()["results"] == [2]


def test_run_request_problems(api: Api) -> None:
    push(api, "team-a/add/1.0.0", wat("add"))
    url = "/v1/plugins/team-a/add/1.0.0/run"
    assert_problem(api.post(url, json={"args": []}), 422)
    assert_problem(api.post(url, json={"export": "add", "args": [1]}), 422)
    assert_problem(api.post(url, json={"export": "sub"}), 422)
    assert_problem(api.post(url, json={"export": "add", "extra": 1}), 422)
    assert_problem(api.post(url, json={"export": "add", "stdinBase64": "!!"}), 422)
    assert_problem(api.post("/v1/plugins/team-a/nope/1.0.0/run", json={"export": "x"}), 404)


def test_none_sandboxing_is_forbidden_by_default(api: Api) -> None:
    push(api, "team-a/free/1.0.0", wat("add"), sandboxing="none")
    res = api.post("/v1/plugins/team-a/free/1.0.0/run", json={"export": "noop"})
    assert_problem(res, 403, "forbidden")


def test_roles_and_namespaces(api: Api, tokens: Tokens) -> None:
    assert push(api, "team-b/add/1.0.0", wat("add")).status_code == 201
    writer_a = api.as_(tokens.writer_a)
    # another namespace: exactly like a missing plugin
    assert_problem(push(writer_a, "team-b/other/1.0.0", wat("add")), 404)
    res = writer_a.post("/v1/plugins/team-b/add/1.0.0/run", json={"export": "noop"})
    assert_problem(res, 404)
    reader = api.as_(tokens.reader)
    assert_problem(push(reader, "team-a/add/1.0.0", wat("add")), 403)
    assert_problem(reader.post("/v1/plugins/team-b/add/1.0.0/run", json={"export": "noop"}), 403)
    assert push(writer_a, "team-a/add/1.0.0", wat("add")).status_code == 201
    assert (
        api.as_(None).post("/v1/plugins/team-a/add/run", json={"export": "noop"}).status_code == 401
    )
