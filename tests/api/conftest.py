"""Fixtures of the API tests: a fresh SQLite registry per test, the app over it, tokens.

Every test gets its own data directory (``tmp_path``), so nothing leaks between tests.
Tokens: ``admin`` (all namespaces), ``writer``, ``reader`` (all namespaces), and
``writer_a`` / ``reader_a`` / ``admin_a`` scoped to namespace ``team-a`` only.
"""

from __future__ import annotations

import copy
import socket
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
import yaml
from fastapi import FastAPI

from hyper_registry import Ref, Registry, Settings
from hyper_registry.api import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

FIXTURES = Path(__file__).parent.parent / "fixtures" / "api"

MINIMAL_SPECS: dict[str, dict[str, Any]] = {
    "model": {"framework": "xgboost"},
    "security": {"type": "vulnerability", "id": "CVE-2024-0001"},
    "service": {},
    "dataset": {},
}


def doc(
    ref: str,
    *,
    spec: dict[str, Any] | None = None,
    relations: list[tuple[str, str]] | None = None,
    **metadata: Any,
) -> dict[str, Any]:
    """A valid document for ``kind:namespace/name@version`` (model, security, service, dataset)."""
    r = Ref.parse(ref)
    assert r.version
    body: dict[str, Any] = {
        "apiVersion": "hyper-registry/v1",
        "kind": r.kind,
        "metadata": {"namespace": r.namespace, "name": r.name, "version": r.version, **metadata},
        "spec": {**copy.deepcopy(MINIMAL_SPECS[r.kind]), **(spec or {})},
    }
    if relations:
        body["relations"] = [{"type": t, "target": target} for t, target in relations]
    return body


def example(name: str) -> list[dict[str, Any]]:
    with (FIXTURES / f"{name}.yaml").open(encoding="utf-8") as fh:
        return [d for d in yaml.safe_load_all(fh) if d is not None]


def example_text(name: str) -> str:
    return (FIXTURES / f"{name}.yaml").read_text(encoding="utf-8")


def all_examples() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for name in ("dataset", "infra", "model", "plugin", "security", "service"):
        out.extend(example(name))
    return out


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def entry_url(ref: str) -> str:
    r = Ref.parse(ref)
    base = f"/v1/entries/{r.kind}/{r.namespace}/{r.name}"
    return f"{base}/versions/{r.version}" if r.version else base


@pytest.fixture
def reg(tmp_path: Path) -> Iterator[Registry]:
    registry = Registry.open(Settings(data_dir=tmp_path / "data", database_url=None))
    try:
        yield registry
    finally:
        registry.close()


@pytest.fixture
def app(reg: Registry) -> FastAPI:
    return create_app(reg, poll_interval=0.05, heartbeat_interval=0.2)


class Tokens:
    def __init__(self, reg: Registry) -> None:
        self.reg = reg
        self.admin = self.make("admin", "admin")
        self.writer = self.make("writer", "writer")
        self.reader = self.make("reader", "reader")
        self.admin_a = self.make("admin-a", "admin", ["team-a"])
        self.writer_a = self.make("writer-a", "writer", ["team-a"])
        self.reader_a = self.make("reader-a", "reader", ["team-a"])

    def make(self, name: str, role: str, namespaces: list[str] | None = None) -> str:
        _, plaintext = self.reg.tokens.create(name, role, namespaces, created_by="test")
        return plaintext


@pytest.fixture
def tokens(reg: Registry) -> Tokens:
    return Tokens(reg)


class Api:
    """A TestClient that sends one token by default."""

    def __init__(self, client: TestClient, token: str) -> None:
        self.client = client
        self.token = token

    def as_(self, token: str | None) -> Api:
        return Api(self.client, token or "")

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", None) or {})
        if self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        return self.client.request(method, url, headers=headers, **kwargs)

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.request("GET", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> Any:
        return self.request("PUT", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Any:
        return self.request("POST", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> Any:
        return self.request("DELETE", url, **kwargs)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def api(client: TestClient, tokens: Tokens) -> Api:
    """The API as the unscoped admin."""
    return Api(client, tokens.admin)


def assert_problem(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert body["type"] == f"https://hyper-registry.dev/problems/{body['code']}"
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str)
    assert isinstance(body["errors"], list)
    if code is not None:
        assert body["code"] == code, body
    return dict(body)


# -- a live server ----------------------------------------------------------------------


@dataclass
class Live:
    url: str
    server: uvicorn.Server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live(reg: Registry) -> Iterator[Live]:
    """The app under uvicorn on 127.0.0.1 (a free port), in a thread; stopped afterwards."""
    app = create_app(reg, poll_interval=0.05, heartbeat_interval=0.3, token_ttl=0.3)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        assert thread.is_alive(), "uvicorn stopped"
        time.sleep(0.02)
    try:
        yield Live(f"http://127.0.0.1:{port}", server)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        assert not thread.is_alive()
