"""Serving the built UI: files, content types, cache headers, the single-page-app
fallback, the how-to-build page, and API paths left alone."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from hyper_registry import Registry, Settings
from hyper_registry.api import create_app
from hyper_registry.web import default_dist, ui_route

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def fake_dist(root: Path) -> Path:
    dist = root / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>app</title><div id=app></div>")
    (dist / "assets" / "index-abc123.js").write_text("console.log(1)")
    (dist / "assets" / "index-abc123.css").write_text("body{}")
    (dist / "robots.txt").write_text("User-agent: *\n")
    (root / "secret.txt").write_text("do not serve")
    return dist


@pytest.fixture
def reg(tmp_path: Path) -> Iterator[Registry]:
    registry = Registry.open(Settings(data_dir=tmp_path / "data"))
    try:
        yield registry
    finally:
        registry.close()


def app_with(reg: Registry, dist: Path | None) -> FastAPI:
    app = create_app(reg)
    # Replace the UI route create_app mounted with one over ``dist``.
    app.router.routes[:] = [r for r in app.router.routes if getattr(r, "name", "") != "web-ui"]
    app.router.routes.append(ui_route(dist))
    return app


def test_files_types_and_caching(reg: Registry, tmp_path: Path) -> None:
    with TestClient(app_with(reg, fake_dist(tmp_path))) as c:
        js = c.get("/assets/index-abc123.js")
        assert js.status_code == 200
        assert js.headers["content-type"].startswith("text/javascript")
        assert "immutable" in js.headers["cache-control"]
        assert js.headers["x-content-type-options"] == "nosniff"
        css = c.get("/assets/index-abc123.css")
        assert css.headers["content-type"].startswith("text/css")
        robots = c.get("/robots.txt")
        assert robots.status_code == 200 and robots.headers["cache-control"] == "no-cache"
        index = c.get("/")
        assert index.status_code == 200
        assert index.headers["content-type"].startswith("text/html")
        assert index.headers["cache-control"] == "no-cache"
        assert "default-src 'self'" in index.headers["content-security-policy"]
        assert c.head("/").status_code == 200


def test_spa_fallback_and_missing_files(reg: Registry, tmp_path: Path) -> None:
    with TestClient(app_with(reg, fake_dist(tmp_path))) as c:
        for path in (
            "/catalog",
            "/entries/service/payments/gateway",
            "/entries/model/risk/fraud/2.1.0",
            "/entries/dataset/risk/set.json/2026-01",
            "/topology?focus=x",
        ):
            r = c.get(path)
            assert r.status_code == 200 and "<div id=app>" in r.text, path
        assert c.get("/assets/index-old999.js").status_code == 404
        assert c.get("/favicon.png").status_code == 404
        for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/assets/..%2f..%2fsecret.txt"):
            r = c.get(path)
            assert "do not serve" not in r.text, path
        assert c.post("/catalog").status_code in (404, 405)


def test_api_paths_keep_their_problems(reg: Registry, tmp_path: Path) -> None:
    with TestClient(app_with(reg, fake_dist(tmp_path))) as c:
        r = c.get("/v1/nothing-here")
        assert r.status_code == 404
        assert r.headers["content-type"] == "application/problem+json"
        r = c.get("/v1/apply")
        assert r.status_code == 405
        assert c.get("/healthz").json() is not None
        assert c.get("/openapi.json").status_code == 200
        assert "/{path}" not in c.get("/openapi.json").json()["paths"]
        # The UI is public; the API behind it is not.
        assert c.get("/v1/entries").status_code == 401


def test_missing_build_says_how_to_build(reg: Registry) -> None:
    with TestClient(app_with(reg, None)) as c:
        r = c.get("/")
        assert r.status_code == 503
        assert "npm ci &amp;&amp; npm run build" in r.text
        assert c.get("/catalog").status_code == 503
        assert c.get("/v1/entries").status_code == 401  # the API works without the UI


def test_default_dist_prefers_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dist = fake_dist(tmp_path)
    monkeypatch.setenv("HYPER_REGISTRY_WEB_DIR", str(dist))
    assert default_dist() == dist
    # A directory without index.html is passed over for the checkout's build (if any).
    monkeypatch.setenv("HYPER_REGISTRY_WEB_DIR", str(tmp_path / "nowhere"))
    checkout = Path(__file__).resolve().parents[2] / "web" / "dist"
    assert default_dist() == (checkout if (checkout / "index.html").is_file() else None)
