"""Which version is the latest: semver precedence for semver kinds, registration time for others."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from hyper_registry import Registry, Settings

MakeDoc = Callable[..., dict[str, Any]]


def latest(registry: Registry, ref: str) -> str:
    version = registry.get(ref).metadata.version
    listed = [e.metadata.version for e in registry.query(name=ref.split("/")[-1]).items]
    assert listed == [version], "the latest-only query and get() disagree"
    return version


def test_semver_precedence_not_registration_order(registry: Registry, make_doc: MakeDoc) -> None:
    for version in ["1.10.0-rc.1", "1.10.0", "1.9.0", "1.2.3"]:
        registry.register(make_doc(f"model:shop/det@{version}"))
    assert latest(registry, "model:shop/det") == "1.10.0"
    assert [e.metadata.version for e in registry.versions("model:shop/det")] == [
        "1.10.0",
        "1.10.0-rc.1",
        "1.9.0",
        "1.2.3",
    ]
    registry.register(make_doc("model:shop/det@2.0.0-alpha"))
    assert latest(registry, "model:shop/det") == "2.0.0-alpha"  # 2.0.0-alpha > 1.10.0
    registry.register(make_doc("model:shop/det@2.0.0"))
    assert latest(registry, "model:shop/det") == "2.0.0"


def test_prerelease_order(registry: Registry, make_doc: MakeDoc) -> None:
    order = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1"]
    for version in reversed(order):
        registry.register(make_doc(f"service:edge/gw@{version}"))
    assert [e.metadata.version for e in registry.versions("service:edge/gw")] == order[::-1]
    assert latest(registry, "service:edge/gw") == "1.0.0-rc.1"


def test_latest_falls_back_when_the_latest_is_deleted(
    registry: Registry, make_doc: MakeDoc
) -> None:
    registry.register(make_doc("service:edge/gw@1.9.0"))
    registry.register(make_doc("service:edge/gw@1.10.0"))
    registry.unregister("service:edge/gw@1.10.0")
    assert latest(registry, "service:edge/gw") == "1.9.0"


@pytest.mark.parametrize(
    "ref_base",
    ["dataset:shop/sessions", "security:advisories/cve-2024-0001"],
)
def test_time_versioned_kinds_order_by_registration(
    registry: Registry, make_doc: MakeDoc, ref_base: str
) -> None:
    for version in ["2026-09", "2024-01", "b-second"]:
        registry.register(make_doc(f"{ref_base}@{version}"))
    assert latest(registry, ref_base) == "b-second"
    assert [e.metadata.version for e in registry.versions(ref_base)] == [
        "b-second",
        "2024-01",
        "2026-09",
    ]
    # Updating an older version does not make it newer.
    registry.update(make_doc(f"{ref_base}@2026-09", title="edited"))
    assert latest(registry, ref_base) == "b-second"


def test_time_order_within_one_batch(registry: Registry, make_doc: MakeDoc) -> None:
    registry.apply_many(
        [make_doc("dataset:shop/sessions@2026-02"), make_doc("dataset:shop/sessions@2026-01")]
    )
    assert latest(registry, "dataset:shop/sessions") == "2026-01"


# -- PostgreSQL with a non-C collation ----------------------------------------------------


@pytest.fixture
def icu_database_url(postgres_server_url: str) -> Iterator[str]:
    """A fresh database whose default collation ignores punctuation (like glibc's en_US)."""
    import psycopg

    admin = postgres_server_url.replace("postgresql+psycopg://", "postgresql://")
    name = f"hr_icu_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        try:
            conn.execute(
                f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C.UTF-8' "
                "LOCALE_PROVIDER icu ICU_LOCALE 'en-US-u-ka-shifted'"
            )
        except psycopg.Error as exc:
            pytest.skip(f"cannot create an ICU database here: {exc}")
    parts = urlsplit(postgres_server_url)
    try:
        yield urlunsplit(parts._replace(path=f"/{name}", query=""))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.mark.postgres
def test_latest_does_not_depend_on_the_database_collation(
    icu_database_url: str, tmp_path: Path, make_doc: MakeDoc
) -> None:
    with Registry.open(Settings(data_dir=tmp_path, database_url=icu_database_url)) as reg:
        reg.register(make_doc("model:shop/det@1.0.0"))
        reg.register(make_doc("model:shop/det@1.0.0-rc.1"))
        assert latest(reg, "model:shop/det") == "1.0.0"
