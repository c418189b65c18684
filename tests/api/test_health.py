"""/healthz, /readyz, /openapi.json and /docs."""

from __future__ import annotations

import pytest

import hyper_registry
from hyper_registry import Registry
from hyper_registry.store.base import StoreHealth

from .conftest import Api, assert_problem


def test_healthz_needs_no_store(api: Api, reg: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise AssertionError("healthz must not touch the store")

    monkeypatch.setattr(reg.store, "health", broken)
    monkeypatch.setattr(reg, "get", broken)
    r = api.as_(None).get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


def test_readyz(api: Api) -> None:
    r = api.as_(None).get("/readyz")
    assert r.status_code == 200 and r.json() == {"status": "ready"}


@pytest.mark.parametrize(
    "health",
    [
        StoreHealth(False, False, None, None, "unable to open database file /secret/path"),
        StoreHealth(True, False, "0001", "0002"),
    ],
)
def test_readyz_503_without_details(
    api: Api, reg: Registry, monkeypatch: pytest.MonkeyPatch, health: StoreHealth
) -> None:
    monkeypatch.setattr(reg.store, "health", lambda: health)
    r = api.as_(None).get("/readyz")
    body = assert_problem(r, 503, "unavailable")
    assert "/secret" not in r.text and "0002" not in r.text
    assert body["instance"] == "/readyz"


def test_openapi_document(api: Api) -> None:
    r = api.as_(None).get("/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"].startswith("3.1")
    assert doc["info"]["title"] == "Hyper Registry"
    assert doc["info"]["version"] == hyper_registry.__version__
    schemas = doc["components"]["schemas"]
    kinds = {"plugin", "service", "model", "dataset", "infra", "security"}
    assert set(schemas["Document"]["discriminator"]["mapping"]) == kinds
    for kind in kinds:
        one = schemas[f"Document.{kind}"]
        assert one["properties"]["kind"]["enum"] == [kind]
        assert one["properties"]["spec"]["$ref"].startswith(f"#/components/schemas/{kind}.")
    metadata = schemas["Metadata"]["properties"]
    assert metadata["name"]["pattern"].startswith("^[a-z0-9]")
    stream = doc["paths"]["/v1/changes/stream"]["get"]["responses"]["200"]["content"]
    assert stream["text/event-stream"]["schema"]["properties"]["event"]["enum"] == ["change"]
    assert doc["components"]["securitySchemes"]["bearerToken"]["scheme"] == "bearer"
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            if path.startswith("/v1/"):
                assert "401" in op["responses"], (method, path)
                problem = op["responses"]["401"]["content"]["application/problem+json"]
                assert problem["schema"]["$ref"].endswith("/ProblemDocument")
            assert "HTTPValidationError" not in str(op["responses"])


def test_docs_page(api: Api) -> None:
    r = api.as_(None).get("/docs")
    assert r.status_code == 200
    assert "swagger" in r.text.lower()
    assert api.as_(None).get("/docs/oauth2-redirect").status_code == 200
