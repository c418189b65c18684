"""Shared fixtures: a fresh registry per test on SQLite and on PostgreSQL, and document builders.

The contract suites take the ``registry`` fixture, which is parametrised over both backends, so
one suite runs unchanged against each. SQLite gets a fresh data directory per test; PostgreSQL
gets a fresh schema per test in the database named by ``HYPER_REGISTRY_TEST_POSTGRES_URL``
(default ``postgresql://postgres@127.0.0.1:5432/test``), dropped afterwards.

An unreachable PostgreSQL skips its tests with the reason, except under ``CI=true``, where it
fails them: CI must run every backend.
"""

from __future__ import annotations

import copy
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
import yaml

from hyper_registry import Ref, Registry, Settings

PG_URL_ENV = "HYPER_REGISTRY_TEST_POSTGRES_URL"
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
FIXTURES = Path(__file__).parent / "fixtures" / "core"

# The smallest spec each kind accepts, for tests about the envelope rather than a kind.
DEFAULT_SPECS: dict[str, dict[str, Any]] = {
    "model": {"framework": "xgboost"},
    "security": {"type": "vulnerability", "id": "CVE-2024-0001"},
    "service": {},
    "dataset": {},
}

MakeDoc = Callable[..., dict[str, Any]]
OpenRegistry = Callable[..., Registry]


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own ``HYPER_REGISTRY_*`` settings must not reach the code under test."""
    for name in list(os.environ):
        if name.startswith("HYPER_REGISTRY_") and name != PG_URL_ENV:
            monkeypatch.delenv(name)


# -- PostgreSQL ---------------------------------------------------------------------------


def _libpq_url(url: str) -> str:
    """The URL as libpq reads it (without SQLAlchemy's ``+driver``)."""
    scheme, rest = url.split("://", 1)
    return f"{scheme.split('+', 1)[0]}://{rest}"


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def with_search_path(url: str, schema: str) -> str:
    """``url`` with every connection's ``search_path`` set to ``schema``."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "options"]
    query.append(("options", f"-csearch_path={schema}"))
    return urlunsplit(parts._replace(query=urlencode(query)))


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    """The test server's URL, once it answered; skipped (failed under CI=true) otherwise."""
    url = os.environ.get(PG_URL_ENV) or DEFAULT_PG_URL
    try:
        import psycopg
    except ImportError:  # pragma: no cover - the test extra installs it
        reason = "psycopg is not installed (pip install -e '.[postgres]')"
    else:
        try:
            with psycopg.connect(_libpq_url(url), connect_timeout=3) as conn:
                conn.execute("SELECT 1")
            return url
        except psycopg.Error as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            reason = f"PostgreSQL at {_redacted(url)} is unreachable: {first}"
    if in_ci():
        pytest.fail(
            f"{reason}. CI=true: the PostgreSQL service is required in CI "
            f"(set {PG_URL_ENV} or start the server)",
            pytrace=False,
        )
    pytest.skip(f"{reason} (set {PG_URL_ENV} to run the PostgreSQL tests)")


def _admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(_libpq_url(url), autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql)


@pytest.fixture
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    """A URL whose connections all work in a fresh schema of their own, dropped afterwards."""
    schema = f"t_{secrets.token_hex(6)}"
    _admin(postgres_server_url, f'CREATE SCHEMA "{schema}"')
    try:
        yield with_search_path(postgres_server_url, schema)
    finally:
        _admin(postgres_server_url, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


# -- registries ---------------------------------------------------------------------------

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """Settings for a fresh, empty database on ``backend``."""
    if backend == "postgres":
        url = request.getfixturevalue("postgres_url")
        return Settings(data_dir=tmp_path / "data", database_url=url)
    return Settings(data_dir=tmp_path / "data", database_url=None)


@pytest.fixture
def open_registry(settings: Settings) -> Iterator[OpenRegistry]:
    """Open (and migrate) registries on the test's database; each is closed after the test.

    Keyword arguments override settings, e.g. ``open_registry(group_commit=False)``. Two
    registries opened here share the database but nothing else (engines, pools, threads).
    """
    opened: list[Registry] = []

    def open_(**overrides: Any) -> Registry:
        reg = Registry.open(settings.model_copy(update=overrides))
        opened.append(reg)
        return reg

    yield open_
    for reg in reversed(opened):
        reg.close()


@pytest.fixture
def registry(open_registry: OpenRegistry) -> Registry:
    """A registry with the built-in kinds on an empty database, on each backend."""
    return open_registry()


@pytest.fixture
def sqlite_registry(tmp_path: Path) -> Iterator[Registry]:
    """A registry on SQLite only, for tests that do not depend on the backend."""
    reg = Registry.open(Settings(data_dir=tmp_path / "sqlite", database_url=None))
    try:
        yield reg
    finally:
        reg.close()


# -- documents ----------------------------------------------------------------------------


def build_doc(
    ref: str,
    *,
    spec: dict[str, Any] | None = None,
    relations: list[tuple[str, str]] | None = None,
    **metadata: Any,
) -> dict[str, Any]:
    """A document for ``kind:namespace/name@version`` with the kind's smallest spec.

    ``spec`` entries are merged over that spec; ``relations`` are (type, target) pairs;
    further keywords are metadata fields (title, owner, labels, tags, ...).
    """
    r = Ref.parse(ref)
    assert r.version, f"{ref}: a document names its version"
    doc: dict[str, Any] = {
        "apiVersion": "hyper-registry/v1",
        "kind": r.kind,
        "metadata": {"namespace": r.namespace, "name": r.name, "version": r.version, **metadata},
        "spec": {**copy.deepcopy(DEFAULT_SPECS.get(r.kind, {})), **(spec or {})},
    }
    if relations:
        doc["relations"] = [{"type": t, "target": target} for t, target in relations]
    return doc


@pytest.fixture
def make_doc() -> MakeDoc:
    return build_doc


def load_example(name: str) -> list[dict[str, Any]]:
    """The documents of ``tests/fixtures/core/<name>.yaml`` (a fresh copy each call)."""
    with (FIXTURES / f"{name}.yaml").open(encoding="utf-8") as fh:
        return [d for d in yaml.safe_load_all(fh) if d is not None]


@pytest.fixture
def example() -> Callable[[str], list[dict[str, Any]]]:
    return load_example


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES
