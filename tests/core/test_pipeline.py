"""The write pipeline: what it refuses, where it says the problem is, and that a refusal writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from hyper_registry import Document, Invalid, Registry, TooLarge

MakeDoc = Callable[..., dict[str, Any]]
Mutation = Callable[[dict[str, Any]], None]


def _set(*path: str | int, value: Any) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        target: Any = doc
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return mutate


def _drop(*path: str) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        target: Any = doc
        for part in path[:-1]:
            target = target[part]
        del target[path[-1]]

    return mutate


REFUSALS: list[tuple[str, Mutation, tuple[str | int, ...], str]] = [
    ("unknown-kind", _set("kind", value="widget"), ("kind",), "unknown-kind"),
    ("unknown-top-field", _set("extra", value=1), ("extra",), "unknown-field"),
    ("client-status", _set("status", value={"health": "ok"}), ("status",), "unknown-field"),
    ("client-uid", _set("metadata", "uid", value="x"), ("metadata", "uid"), "unknown-field"),
    (
        "client-revision",
        _set("metadata", "revision", value=3),
        ("metadata", "revision"),
        "unknown-field",
    ),
    (
        "client-created-at",
        _set("metadata", "createdAt", value="2026-01-01T00:00:00Z"),
        ("metadata", "createdAt"),
        "unknown-field",
    ),
    (
        "unknown-metadata-field",
        _set("metadata", "colour", value="red"),
        ("metadata", "colour"),
        "unknown-field",
    ),
    (
        "unknown-spec-field",
        _set("spec", "colour", value="red"),
        ("spec", "colour"),
        "unknown-field",
    ),
    ("upper-case-name", _set("metadata", "name", value="Det"), ("metadata", "name"), "value-error"),
    (
        "double-dot-name",
        _set("metadata", "name", value="a..b"),
        ("metadata", "name"),
        "value-error",
    ),
    ("slash-in-name", _set("metadata", "name", value="a/b"), ("metadata", "name"), "value-error"),
    (
        "space-in-namespace",
        _set("metadata", "namespace", value="sh op"),
        ("metadata", "namespace"),
        "value-error",
    ),
    ("missing-name", _drop("metadata", "name"), ("metadata", "name"), "missing"),
    (
        "not-semver",
        _set("metadata", "version", value="1.0"),
        ("metadata", "version"),
        "bad-version",
    ),
    (
        "bad-relation-target",
        _set("relations", value=[{"type": "uses", "target": "nope"}]),
        ("relations", 0, "target"),
        "value-error",
    ),
    (
        "unknown-relation-type",
        _set("relations", value=[{"type": "likes", "target": "service:a/b"}]),
        ("relations", 0, "type"),
        "value-error",
    ),
    ("api-version", _set("apiVersion", value="v2"), ("apiVersion",), "literal-error"),
    (
        "bad-tag",
        _set("metadata", "tags", value=["ok", "Bad"]),
        ("metadata", "tags", 1),
        "value-error",
    ),
    (
        "kind-spec-rule",
        _set("spec", "framework", value="abacus"),
        ("spec", "framework"),
        "bad-choice",
    ),
    (
        "spec-ref-to-wrong-kind",
        _set("spec", "parent", value="dataset:shop/x@1"),
        ("spec", "parent"),
        "bad-ref-kind",
    ),
    ("bad-alias", _set("spec", "aliases", value=["Champion"]), ("spec", "aliases", 0), "bad-name"),
]


@pytest.mark.parametrize(
    ("mutate", "loc", "code"),
    [pytest.param(m, loc, code, id=name) for name, m, loc, code in REFUSALS],
)
def test_refusal_names_the_field_and_writes_nothing(
    registry: Registry, make_doc: MakeDoc, mutate: Mutation, loc: tuple[str | int, ...], code: str
) -> None:
    registry.register(make_doc("model:shop/det@1.0.0"))
    before = (registry.count(all_versions=True), registry.changes())
    doc = make_doc("model:shop/det@1.1.0")
    mutate(doc)
    for write in (registry.register, registry.apply, registry.validate):
        with pytest.raises(Invalid) as info:
            write(doc)
        assert [(p.loc, p.code) for p in info.value.problems] == [(loc, code)]
        assert info.value.problems[0].message
    with pytest.raises(Invalid):
        registry.apply_many([make_doc("model:shop/other@1.0.0"), doc])
    assert (registry.count(all_versions=True), registry.changes()) == before
    assert [e.metadata.version for e in registry.versions("model:shop/det")] == ["1.0.0"]


def test_not_a_mapping_is_refused(sqlite_registry: Registry) -> None:
    with pytest.raises(Invalid) as info:
        sqlite_registry.register(["not", "a", "document"])  # type: ignore[arg-type]
    assert info.value.problems[0].code == "not-an-object"


def test_every_envelope_problem_is_reported_at_once(
    sqlite_registry: Registry, make_doc: MakeDoc
) -> None:
    doc = make_doc("service:edge/gw@1.0.0")
    doc["metadata"]["name"] = "GW"
    doc["metadata"]["colour"] = "red"
    doc["relations"] = [{"type": "likes", "target": "service:a/b"}]
    with pytest.raises(Invalid) as info:
        sqlite_registry.validate(doc)
    assert {p.loc for p in info.value.problems} == {
        ("metadata", "name"),
        ("metadata", "colour"),
        ("relations", 0, "type"),
    }


def test_version_and_spec_problems_are_reported_together(
    sqlite_registry: Registry, make_doc: MakeDoc
) -> None:
    doc = make_doc("model:shop/det@1.0.0", spec={"framework": "abacus"})
    doc["metadata"]["version"] = "v1"
    with pytest.raises(Invalid) as info:
        sqlite_registry.validate(doc)
    assert {p.loc for p in info.value.problems} == {("metadata", "version"), ("spec", "framework")}


def test_time_versioned_kinds_take_free_form_versions(
    sqlite_registry: Registry, make_doc: MakeDoc
) -> None:
    assert (
        sqlite_registry.validate(make_doc("dataset:shop/sessions@2026-09")).ref.version == "2026-09"
    )
    with pytest.raises(Invalid):
        sqlite_registry.validate(make_doc("service:shop/orders@2026-09"))


def test_validate_writes_nothing(registry: Registry, make_doc: MakeDoc) -> None:
    doc = registry.validate(make_doc("service:edge/gw@1.0.0", title="Gateway"))
    assert isinstance(doc, Document)
    assert doc.metadata.title == "Gateway"
    assert registry.count() == 0
    assert registry.changes() == []


def test_oversized_document_is_too_large(
    open_registry: Callable[..., Registry], make_doc: MakeDoc
) -> None:
    reg = open_registry(max_document_bytes=1024)
    with pytest.raises(TooLarge):
        reg.register(make_doc("service:edge/gw@1.0.0", description="x" * 2000))
    reg.register(make_doc("service:edge/gw@1.0.0", description="x" * 100))
    assert reg.count() == 1


def test_repeated_relations_are_stored_once(sqlite_registry: Registry, make_doc: MakeDoc) -> None:
    sqlite_registry.register(
        make_doc(
            "model:shop/det@2.0.0",
            spec={"parent": "model:shop/det@1.0.0"},
            relations=[
                ("derivedFrom", "model:shop/det@1.0.0"),  # the spec implies this one too
                ("trainedOn", "dataset:shop/sessions"),
                ("trainedOn", "dataset:shop/sessions"),
            ],
        )
    )
    views = sqlite_registry.relations("model:shop/det@2.0.0")
    assert sorted((v.type, str(v.other), v.origin) for v in views) == [
        ("derivedFrom", "model:shop/det@1.0.0", "declared"),
        ("trainedOn", "dataset:shop/sessions", "declared"),
    ]


def test_key_order_does_not_change_the_content(registry: Registry, make_doc: MakeDoc) -> None:
    doc = make_doc("service:edge/gw@1.0.0", title="Gateway", labels={"a": "1", "b": "2"})
    first = registry.apply(doc)
    reordered = {
        "spec": doc["spec"],
        "metadata": dict(reversed(list(doc["metadata"].items()))),
        "kind": doc["kind"],
    }
    reordered["metadata"]["labels"] = {"b": "2", "a": "1"}
    second = registry.apply(reordered)
    assert second.outcome == "unchanged"
    assert second.revision == first.revision == 1
