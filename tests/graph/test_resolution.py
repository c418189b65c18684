"""Relations name their ends by reference and follow them as entries come, move and go.

A relation may point at something not registered yet (it dangles, then resolves when that
arrives); a latest-version or ``@alias`` end re-resolves when versions or aliases move; deleting
an entry makes relations to it dangle. Checked on both backends, on both ends of a relation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hyper_registry import Registry

MakeDoc = Callable[..., dict[str, Any]]


def resolved(registry: Registry, ref: str, rel: str) -> list[str | None]:
    """Where ``ref``'s relations named ``rel`` resolve (None while dangling)."""
    return [
        str(v.resolved) if v.resolved else None for v in registry.relations(ref) if v.type == rel
    ]


def dependents(registry: Registry, ref: str) -> list[str]:
    return [str(h.ref) for h in registry.dependents(ref, depth=1)]


def test_dangling_relation_resolves_when_the_target_arrives(
    registry: Registry, make_doc: MakeDoc
) -> None:
    registry.register(
        make_doc("service:edge/gw@1.0.0", relations=[("uses", "model:shop/det@1.0.0")])
    )
    assert resolved(registry, "service:edge/gw", "uses") == [None]
    assert registry.dependencies("service:edge/gw") == []
    registry.register(make_doc("model:shop/det@1.0.0"))
    assert resolved(registry, "service:edge/gw", "uses") == ["model:shop/det@1.0.0"]
    assert [str(h.ref) for h in registry.dependencies("service:edge/gw")] == [
        "model:shop/det@1.0.0"
    ]
    assert dependents(registry, "model:shop/det@1.0.0") == ["service:edge/gw@1.0.0"]


def test_targets_of_another_kind_or_namespace_do_not_match(
    registry: Registry, make_doc: MakeDoc
) -> None:
    registry.register(make_doc("service:edge/gw@1.0.0", relations=[("uses", "model:shop/x")]))
    registry.register(make_doc("dataset:shop/x@2026-01"))
    registry.register(make_doc("model:other/x@1.0.0"))
    assert resolved(registry, "service:edge/gw", "uses") == [None]


def test_latest_target_follows_new_and_deleted_versions(
    registry: Registry, make_doc: MakeDoc
) -> None:
    registry.register(make_doc("service:edge/gw@1.0.0", relations=[("uses", "model:shop/det")]))
    registry.register(make_doc("model:shop/det@1.0.0"))
    assert resolved(registry, "service:edge/gw", "uses") == ["model:shop/det@1.0.0"]
    registry.register(make_doc("model:shop/det@1.10.0"))
    assert resolved(registry, "service:edge/gw", "uses") == ["model:shop/det@1.10.0"]
    assert dependents(registry, "model:shop/det@1.0.0") == []
    assert dependents(registry, "model:shop/det@1.10.0") == ["service:edge/gw@1.0.0"]
    registry.register(make_doc("model:shop/det@1.9.0"))  # older: the latest does not move
    assert resolved(registry, "service:edge/gw", "uses") == ["model:shop/det@1.10.0"]
    registry.unregister("model:shop/det@1.10.0")
    assert resolved(registry, "service:edge/gw", "uses") == ["model:shop/det@1.9.0"]
    registry.unregister("model:shop/det@1.9.0")
    registry.unregister("model:shop/det@1.0.0")
    assert resolved(registry, "service:edge/gw", "uses") == [None]


def test_alias_target_follows_the_alias(registry: Registry, make_doc: MakeDoc) -> None:
    registry.register(
        make_doc("service:edge/gw@1.0.0", relations=[("uses", "model:shop/det@champion")])
    )
    assert resolved(registry, "service:edge/gw", "uses") == [None]
    registry.register(make_doc("model:shop/det@1.0.0", spec={"aliases": ["champion"]}))
    assert resolved(registry, "service:edge/gw", "uses") == ["model:shop/det@1.0.0"]
    registry.register(make_doc("model:shop/det@2.0.0", spec={"aliases": ["champion"]}))
    assert resolved(registry, "service:edge/gw", "uses") == ["model:shop/det@2.0.0"]
    registry.set_alias("model:shop/det@1.0.0", "champion")
    assert resolved(registry, "service:edge/gw", "uses") == ["model:shop/det@1.0.0"]
    assert dependents(registry, "model:shop/det@2.0.0") == []
    registry.unregister("model:shop/det@1.0.0")  # takes the alias with it
    assert resolved(registry, "service:edge/gw", "uses") == [None]
    registry.set_alias("model:shop/det@2.0.0", "champion")
    assert resolved(registry, "service:edge/gw", "uses") == ["model:shop/det@2.0.0"]


def test_pinned_target_stays_and_dangles_when_deleted(
    registry: Registry, make_doc: MakeDoc
) -> None:
    registry.register(make_doc("model:shop/det@1.0.0"))
    registry.register(
        make_doc("service:edge/gw@1.0.0", relations=[("uses", "model:shop/det@1.0.0")])
    )
    registry.register(make_doc("model:shop/det@2.0.0"))
    assert resolved(registry, "service:edge/gw", "uses") == ["model:shop/det@1.0.0"]
    registry.unregister("model:shop/det@1.0.0")
    assert resolved(registry, "service:edge/gw", "uses") == [None]
    assert registry.dependencies("service:edge/gw") == []
    assert dependents(registry, "model:shop/det@2.0.0") == []
    registry.register(make_doc("model:shop/det@1.0.0"))
    assert resolved(registry, "service:edge/gw", "uses") == ["model:shop/det@1.0.0"]


def test_the_source_end_resolves_too(registry: Registry, make_doc: MakeDoc) -> None:
    """An inverse declaration stores the other entry as the source; it moves like a target."""
    registry.register(
        make_doc(
            "dataset:shop/s@2026-01", relations=[("trainingDataOf", "model:shop/det@champion")]
        )
    )
    assert resolved(registry, "dataset:shop/s", "trainingDataOf") == [None]
    registry.register(make_doc("model:shop/det@1.0.0", spec={"aliases": ["champion"]}))
    assert resolved(registry, "dataset:shop/s", "trainingDataOf") == ["model:shop/det@1.0.0"]
    assert resolved(registry, "model:shop/det@1.0.0", "trainedOn") == ["dataset:shop/s@2026-01"]
    registry.register(make_doc("model:shop/det@2.0.0", spec={"aliases": ["champion"]}))
    assert resolved(registry, "dataset:shop/s", "trainingDataOf") == ["model:shop/det@2.0.0"]
    assert resolved(registry, "model:shop/det@1.0.0", "trainedOn") == []
    registry.unregister("model:shop/det@2.0.0")
    assert resolved(registry, "dataset:shop/s", "trainingDataOf") == [None]


def test_deleting_the_declaring_entry_removes_its_relations(
    registry: Registry, make_doc: MakeDoc
) -> None:
    registry.register(make_doc("model:shop/det@1.0.0"))
    registry.register(make_doc("service:edge/gw@1.0.0", relations=[("uses", "model:shop/det")]))
    assert [v.type for v in registry.relations("model:shop/det")] == ["usedBy"]
    registry.unregister("service:edge/gw@1.0.0")
    assert registry.relations("model:shop/det") == []
    assert dependents(registry, "model:shop/det") == []


def test_an_update_replaces_the_declared_relations(registry: Registry, make_doc: MakeDoc) -> None:
    registry.register(make_doc("model:shop/a@1.0.0"))
    registry.register(make_doc("model:shop/b@1.0.0"))
    registry.register(make_doc("service:edge/gw@1.0.0", relations=[("uses", "model:shop/a")]))
    registry.update(make_doc("service:edge/gw@1.0.0", relations=[("uses", "model:shop/b")]))
    assert resolved(registry, "service:edge/gw", "uses") == ["model:shop/b@1.0.0"]
    assert dependents(registry, "model:shop/a") == []
    assert dependents(registry, "model:shop/b") == ["service:edge/gw@1.0.0"]


def test_relations_implied_by_a_spec(registry: Registry, make_doc: MakeDoc) -> None:
    registry.register(make_doc("dataset:shop/s@2026-01"))
    registry.register(make_doc("model:shop/det@1.0.0"))
    registry.register(
        make_doc(
            "model:shop/det@2.0.0",
            spec={"parent": "model:shop/det@1.0.0", "trainingDatasets": ["dataset:shop/s@2026-01"]},
        )
    )
    views = {
        (v.type, str(v.resolved), v.origin) for v in registry.relations("model:shop/det@2.0.0")
    }
    assert views == {
        ("derivedFrom", "model:shop/det@1.0.0", "spec"),
        ("trainedOn", "dataset:shop/s@2026-01", "spec"),
    }
    assert [str(h.ref) for h in registry.dependents("dataset:shop/s")] == ["model:shop/det@2.0.0"]
