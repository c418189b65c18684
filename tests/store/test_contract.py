"""The store contract: one suite, run unchanged against SQLite and PostgreSQL (the ``registry`` fixture).

Writes and revisions, idempotency keys, bulk apply (atomic and not), the change log, status
and aliases. Queries, versions, concurrency and migrations have their own files.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from hyper_registry import (
    AlreadyExists,
    BatchRefused,
    Conflict,
    Invalid,
    NotFound,
    Ref,
    Registry,
)

MakeDoc = Callable[..., dict[str, Any]]


def _ops(registry: Registry) -> list[tuple[str, str]]:
    return [(c.op, c.ref) for c in registry.changes()]


# -- create, read, update, delete ---------------------------------------------------------


def test_register_then_get(registry: Registry, make_doc: MakeDoc) -> None:
    entry = registry.register(
        make_doc("service:edge/gw@1.0.0", title="Gateway", owner="team-edge", tags=["http"])
    )
    assert entry.ref == Ref("service", "edge", "gw", "1.0.0")
    assert entry.revision == 1
    assert len(entry.uid) == 36
    assert entry.metadata.contentHash.startswith("sha256:")
    assert entry.metadata.createdAt == entry.metadata.updatedAt
    assert entry.status == {}
    got = registry.get("service:edge/gw@1.0.0")
    assert got.model_dump() == entry.model_dump()
    assert registry.get("service:edge/gw").uid == entry.uid
    assert registry.get(Ref("service", "edge", "gw", "1.0.0")).metadata.title == "Gateway"


def test_get_unknown_is_not_found(registry: Registry, make_doc: MakeDoc) -> None:
    registry.register(make_doc("service:edge/gw@1.0.0"))
    for ref in (
        "service:edge/gw@2.0.0",
        "service:edge/other",
        "service:other/gw",
        "model:edge/gw",
        "service:edge/gw@champion",
    ):
        with pytest.raises(NotFound):
            registry.get(ref)


def test_duplicate_create_is_already_exists_and_changes_nothing(
    registry: Registry, make_doc: MakeDoc
) -> None:
    registry.register(make_doc("service:edge/gw@1.0.0", title="first"))
    with pytest.raises(AlreadyExists):
        registry.register(make_doc("service:edge/gw@1.0.0", title="second"))
    entry = registry.get("service:edge/gw@1.0.0")
    assert (entry.metadata.title, entry.revision) == ("first", 1)
    assert _ops(registry) == [("create", "service:edge/gw@1.0.0")]


def test_update_bumps_the_revision_and_keeps_identity(
    registry: Registry, make_doc: MakeDoc
) -> None:
    created = registry.register(make_doc("service:edge/gw@1.0.0", title="one"))
    updated = registry.update(make_doc("service:edge/gw@1.0.0", title="two"))
    assert updated.revision == 2
    assert updated.uid == created.uid
    assert updated.metadata.createdAt == created.metadata.createdAt
    assert updated.metadata.updatedAt >= created.metadata.updatedAt
    assert updated.metadata.contentHash != created.metadata.contentHash
    assert registry.get("service:edge/gw@1.0.0").metadata.title == "two"
    assert [c.revision for c in registry.changes()] == [1, 2]


def test_update_of_a_missing_entry_is_not_found(registry: Registry, make_doc: MakeDoc) -> None:
    with pytest.raises(NotFound):
        registry.update(make_doc("service:edge/gw@1.0.0"))
    assert registry.count() == 0


def test_optimistic_concurrency(registry: Registry, make_doc: MakeDoc) -> None:
    registry.register(make_doc("service:edge/gw@1.0.0", title="one"))
    registry.update(make_doc("service:edge/gw@1.0.0", title="two"), expected_revision=1)
    with pytest.raises(Conflict) as info:
        registry.update(make_doc("service:edge/gw@1.0.0", title="stale"), expected_revision=1)
    assert "revision 2" in info.value.message
    with pytest.raises(Conflict):
        registry.apply(make_doc("service:edge/gw@1.0.0", title="stale"), expected_revision=1)
    with pytest.raises(Conflict):
        registry.unregister("service:edge/gw@1.0.0", expected_revision=1)
    entry = registry.get("service:edge/gw@1.0.0")
    assert (entry.metadata.title, entry.revision) == ("two", 2)
    assert len(registry.changes()) == 2
    assert (
        registry.update(
            make_doc("service:edge/gw@1.0.0", title="three"), expected_revision=2
        ).revision
        == 3
    )


def test_apply_creates_updates_and_skips_unchanged(registry: Registry, make_doc: MakeDoc) -> None:
    first = registry.apply(make_doc("service:edge/gw@1.0.0", title="one"))
    same = registry.apply(make_doc("service:edge/gw@1.0.0", title="one"))
    changed = registry.apply(make_doc("service:edge/gw@1.0.0", title="two"))
    assert [(r.outcome, r.revision) for r in (first, same, changed)] == [
        ("created", 1),
        ("unchanged", 1),
        ("updated", 2),
    ]
    assert first.uid == same.uid == changed.uid
    assert [c.op for c in registry.changes()] == ["create", "update"]


def test_apply_with_a_revision_expects_the_entry(registry: Registry, make_doc: MakeDoc) -> None:
    with pytest.raises(NotFound):
        registry.apply(make_doc("service:edge/gw@1.0.0"), expected_revision=1)
    assert registry.count() == 0


def test_unregister(registry: Registry, make_doc: MakeDoc) -> None:
    registry.register(make_doc("service:edge/gw@1.0.0"))
    registry.register(make_doc("service:edge/gw@2.0.0"))
    gone = registry.unregister("service:edge/gw")  # latest: 2.0.0
    assert gone.ref == Ref("service", "edge", "gw", "2.0.0")
    with pytest.raises(NotFound):
        registry.get("service:edge/gw@2.0.0")
    assert registry.get("service:edge/gw").metadata.version == "1.0.0"
    with pytest.raises(NotFound):
        registry.unregister("service:edge/gw@2.0.0")
    last = registry.changes()[-1]
    assert (last.op, last.ref, last.uid, last.revision) == (
        "delete",
        "service:edge/gw@2.0.0",
        gone.uid,
        1,
    )


def test_a_deleted_version_can_be_registered_again(registry: Registry, make_doc: MakeDoc) -> None:
    old = registry.register(make_doc("service:edge/gw@1.0.0"))
    registry.unregister("service:edge/gw@1.0.0", expected_revision=1)
    new = registry.register(make_doc("service:edge/gw@1.0.0"))
    assert new.uid != old.uid
    assert new.revision == 1


# -- status: the registry's field, never the client's -------------------------------------


def test_status_is_set_by_the_registry_only(registry: Registry, make_doc: MakeDoc) -> None:
    doc = make_doc("service:edge/gw@1.0.0")
    doc["status"] = {"health": "up"}
    with pytest.raises(Invalid) as info:
        registry.register(doc)
    assert info.value.problems[0].loc == ("status",)
    del doc["status"]
    registry.register(doc)
    entry = registry.set_status("service:edge/gw", {"health": "up"})
    assert entry.status == {"health": "up"}
    assert entry.revision == 1
    # A client's later update keeps the registry's status.
    updated = registry.update(make_doc("service:edge/gw@1.0.0", title="new"))
    assert updated.status == {"health": "up"}
    assert registry.get("service:edge/gw@1.0.0").status == {"health": "up"}
    assert [c.op for c in registry.changes()] == ["create", "status", "update"]


# -- idempotency keys ---------------------------------------------------------------------


def test_same_key_and_body_applies_once(registry: Registry, make_doc: MakeDoc) -> None:
    doc = make_doc("service:edge/gw@1.0.0", title="one")
    first = registry.register(doc, idempotency_key="req-1")
    again = registry.register(doc, idempotency_key="req-1")
    assert again.uid == first.uid
    assert again.revision == 1
    assert len(registry.changes()) == 1


def test_same_key_with_another_body_is_a_conflict(registry: Registry, make_doc: MakeDoc) -> None:
    registry.apply(make_doc("service:edge/gw@1.0.0", title="one"), idempotency_key="req-1")
    with pytest.raises(Conflict) as info:
        registry.apply(make_doc("service:edge/gw@1.0.0", title="two"), idempotency_key="req-1")
    assert "req-1" in info.value.message
    with pytest.raises(Conflict):
        registry.update(make_doc("service:edge/gw@1.0.0", title="one"), idempotency_key="req-1")
    assert registry.get("service:edge/gw@1.0.0").metadata.title == "one"
    assert len(registry.changes()) == 1


def test_idempotent_update_does_not_bump_twice(registry: Registry, make_doc: MakeDoc) -> None:
    registry.register(make_doc("service:edge/gw@1.0.0", title="one"))
    doc = make_doc("service:edge/gw@1.0.0", title="two")
    assert registry.update(doc, expected_revision=1, idempotency_key="k").revision == 2
    assert registry.update(doc, expected_revision=1, idempotency_key="k").revision == 2
    assert registry.get("service:edge/gw@1.0.0").revision == 2


def test_idempotent_delete_replays(registry: Registry, make_doc: MakeDoc) -> None:
    registry.register(make_doc("service:edge/gw@1.0.0"))
    first = registry.unregister("service:edge/gw@1.0.0", idempotency_key="del-1")
    again = registry.unregister("service:edge/gw@1.0.0", idempotency_key="del-1")
    assert again.uid == first.uid
    assert [c.op for c in registry.changes()] == ["create", "delete"]


def test_a_refused_request_does_not_use_up_its_key(registry: Registry, make_doc: MakeDoc) -> None:
    registry.register(make_doc("service:edge/gw@1.0.0"))
    with pytest.raises(AlreadyExists):
        registry.register(make_doc("service:edge/gw@1.0.0"), idempotency_key="k")
    created = registry.register(make_doc("service:edge/gw@2.0.0"), idempotency_key="k")
    assert created.metadata.version == "2.0.0"


# -- bulk apply ---------------------------------------------------------------------------


def test_atomic_batch_with_a_bad_document_writes_nothing(
    registry: Registry, make_doc: MakeDoc
) -> None:
    registry.register(make_doc("service:edge/existing@1.0.0"))
    before = (registry.count(all_versions=True), registry.changes())
    bad_name = make_doc("service:edge/b@1.0.0")
    bad_name["metadata"]["name"] = "Bad"
    bad_kind = make_doc("service:edge/d@1.0.0")
    bad_kind["kind"] = "widget"
    batch = [
        make_doc("service:edge/a@1.0.0"),
        bad_name,
        make_doc("service:edge/existing@1.0.0", title="changed"),
        bad_kind,
        make_doc("dataset:shop/e@2026-01"),
    ]
    with pytest.raises(BatchRefused) as info:
        registry.apply_many(batch)
    refused = info.value
    assert [(i.index, i.ref) for i in refused.items] == [
        (1, "service:edge/Bad@1.0.0"),
        (3, "widget:edge/d@1.0.0"),
    ]
    assert [(p.loc, p.code) for p in refused.problems] == [
        ((1, "metadata", "name"), "value-error"),
        ((3, "kind"), "unknown-kind"),
    ]
    assert (registry.count(all_versions=True), registry.changes()) == before
    assert registry.get("service:edge/existing@1.0.0").metadata.title is None


def test_atomic_batch_applies_everything_in_order(registry: Registry, make_doc: MakeDoc) -> None:
    registry.register(make_doc("service:edge/b@1.0.0"))
    report = registry.apply_many(
        [
            make_doc("service:edge/a@1.0.0"),
            make_doc("service:edge/b@1.0.0", title="changed"),
            make_doc("service:edge/c@1.0.0"),
            make_doc("service:edge/c@1.0.0", title="twice in one batch"),
            make_doc("service:edge/a@1.0.0"),
        ],
        actor="loader",
    )
    assert report.ok
    assert [(r.index, str(r.ref), r.outcome, r.revision) for r in report.results] == [
        (0, "service:edge/a@1.0.0", "created", 1),
        (1, "service:edge/b@1.0.0", "updated", 2),
        (2, "service:edge/c@1.0.0", "created", 1),
        (3, "service:edge/c@1.0.0", "updated", 2),
        (4, "service:edge/a@1.0.0", "unchanged", 1),
    ]
    assert report.counts() == {
        "created": 2,
        "updated": 2,
        "unchanged": 1,
        "deleted": 0,
        "refused": 0,
    }
    assert registry.get("service:edge/c@1.0.0").metadata.title == "twice in one batch"
    assert {c.actor for c in registry.changes(since=1)} == {"loader"}


def test_batches_are_cut_by_batch_size(registry: Registry, make_doc: MakeDoc) -> None:
    seen: list[int] = []
    docs = [make_doc(f"service:edge/s{i}@1.0.0") for i in range(7)]
    report = registry.apply_many(docs, batch_size=3, progress=seen.append)
    assert [r.index for r in report.results] == list(range(7))
    assert seen == [3, 3, 1]
    assert registry.count() == 7


def test_non_atomic_batch_reports_each_item(registry: Registry, make_doc: MakeDoc) -> None:
    bad = make_doc("service:edge/b@1.0.0")
    bad["metadata"]["version"] = "one"
    report = registry.apply_many(
        [make_doc("service:edge/a@1.0.0"), bad, make_doc("service:edge/c@1.0.0"), {"kind": 1}],
        atomic=False,
        batch_size=2,
    )
    assert not report.ok
    assert [(r.index, str(r.ref), r.outcome) for r in report.results] == [
        (0, "service:edge/a@1.0.0", "created"),
        (2, "service:edge/c@1.0.0", "created"),
    ]
    assert [e.index for e in report.errors] == [1, 3]
    assert report.errors[0].error.problems[0].loc == ("metadata", "version")
    assert report.counts()["refused"] == 2
    assert sorted(str(e.ref) for e in registry.query().items) == [
        "service:edge/a@1.0.0",
        "service:edge/c@1.0.0",
    ]


def test_empty_batch(registry: Registry) -> None:
    report = registry.apply_many([])
    assert report.ok
    assert report.results == []
    assert registry.changes() == []


# -- the change log -----------------------------------------------------------------------


def test_change_log_records_every_change_in_order(registry: Registry, make_doc: MakeDoc) -> None:
    registry.register(make_doc("service:edge/gw@1.0.0"), actor="alice")
    registry.update(make_doc("service:edge/gw@1.0.0", title="x"), actor="bob")
    registry.register(make_doc("dataset:shop/sessions@2026-01"), actor="carol")
    registry.set_status("service:edge/gw@1.0.0", {"health": "up"}, actor="prober")
    registry.unregister("service:edge/gw@1.0.0", actor="dave")
    log = registry.changes()
    seqs = [c.seq for c in log]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == len(seqs)
    assert [(c.actor, c.op, c.ref, c.revision) for c in log] == [
        ("alice", "create", "service:edge/gw@1.0.0", 1),
        ("bob", "update", "service:edge/gw@1.0.0", 2),
        ("carol", "create", "dataset:shop/sessions@2026-01", 1),
        ("prober", "status", "service:edge/gw@1.0.0", 2),
        ("dave", "delete", "service:edge/gw@1.0.0", 2),
    ]
    assert [(c.kind, c.namespace) for c in log][:3] == [
        ("service", "edge"),
        ("service", "edge"),
        ("dataset", "shop"),
    ]
    assert all(c.at.endswith("Z") for c in log)
    assert log[0].uid == log[1].uid
    assert log[0].to_dict()["seq"] == log[0].seq


def test_change_log_reads_from_a_sequence_number(registry: Registry, make_doc: MakeDoc) -> None:
    for i in range(5):
        registry.register(make_doc(f"service:edge/s{i}@1.0.0"))
    log = registry.changes()
    assert registry.changes(since=log[1].seq) == log[2:]
    assert registry.changes(since=log[1].seq, limit=2) == log[2:4]
    assert registry.changes(since=log[-1].seq) == []


def test_change_log_restricted_to_namespaces(registry: Registry, make_doc: MakeDoc) -> None:
    registry.register(make_doc("service:edge/gw@1.0.0"))
    registry.register(make_doc("service:shop/orders@1.0.0"))
    registry.register(make_doc("dataset:lake/raw@2026-01"))
    assert [c.namespace for c in registry.changes(namespaces=["shop", "lake"])] == ["shop", "lake"]
    assert registry.changes(namespaces=[]) == []


def test_refused_writes_leave_no_trace(registry: Registry, make_doc: MakeDoc) -> None:
    registry.register(make_doc("service:edge/gw@1.0.0"))
    log = registry.changes()
    with pytest.raises(AlreadyExists):
        registry.register(make_doc("service:edge/gw@1.0.0"))
    with pytest.raises(Conflict):
        registry.update(make_doc("service:edge/gw@1.0.0", title="x"), expected_revision=7)
    with pytest.raises(NotFound):
        registry.unregister("service:edge/nope@1.0.0")
    assert registry.changes() == log


# -- aliases ------------------------------------------------------------------------------


def test_aliases_claimed_by_the_spec_move_with_new_versions(
    registry: Registry, make_doc: MakeDoc
) -> None:
    registry.register(make_doc("model:shop/det@1.0.0", spec={"aliases": ["champion"]}))
    assert registry.get("model:shop/det@champion").metadata.version == "1.0.0"
    registry.register(make_doc("model:shop/det@2.0.0", spec={"aliases": ["champion", "beta"]}))
    assert registry.aliases("model:shop/det") == {"beta": "2.0.0", "champion": "2.0.0"}
    assert registry.get("model:shop/det@champion").metadata.version == "2.0.0"
    moves = [c for c in registry.changes() if c.op == "alias"]
    assert [(c.ref, c.detail) for c in moves] == [
        ("model:shop/det@champion", {"alias": "champion", "to": "1.0.0", "from": None}),
        ("model:shop/det@champion", {"alias": "champion", "to": "2.0.0", "from": "1.0.0"}),
        ("model:shop/det@beta", {"alias": "beta", "to": "2.0.0", "from": None}),
    ]


def test_set_alias_and_delete_of_its_version(registry: Registry, make_doc: MakeDoc) -> None:
    registry.register(make_doc("model:shop/det@1.0.0"))
    registry.register(make_doc("model:shop/det@2.0.0"))
    entry = registry.set_alias("model:shop/det@1.0.0", "stable", actor="alice")
    assert entry.metadata.version == "1.0.0"
    assert registry.get("model:shop/det@stable").metadata.version == "1.0.0"
    seq = registry.changes()[-1].seq
    registry.set_alias("model:shop/det@1.0.0", "stable")  # no move, no change
    assert registry.changes()[-1].seq == seq
    with pytest.raises(Invalid):
        registry.set_alias("model:shop/det@1.0.0", "Not An Alias")
    with pytest.raises(NotFound):
        registry.set_alias("model:shop/det@9.9.9", "stable")
    registry.unregister("model:shop/det@stable")
    assert registry.aliases("model:shop/det") == {}
    with pytest.raises(NotFound):
        registry.get("model:shop/det@stable")
    last = registry.changes()[-1]
    assert (last.op, last.ref, last.detail) == (
        "delete",
        "model:shop/det@1.0.0",
        {"aliasesRemoved": ["stable"]},
    )


def test_an_exact_version_wins_over_an_alias_of_the_same_text(
    registry: Registry, make_doc: MakeDoc
) -> None:
    registry.register(make_doc("dataset:shop/sessions@2026-01"))
    registry.register(make_doc("dataset:shop/sessions@2026-02"))
    registry.set_alias("dataset:shop/sessions@2026-02", "2026-01")
    assert registry.get("dataset:shop/sessions@2026-01").metadata.version == "2026-01"


def test_alias_moves_are_logged_with_the_callers_actor(
    registry: Registry, make_doc: MakeDoc
) -> None:
    registry.register(
        make_doc("model:shop/det@1.0.0", spec={"aliases": ["champion"]}), actor="alice"
    )
    assert [(c.op, c.actor) for c in registry.changes()] == [
        ("create", "alice"),
        ("alias", "alice"),
    ]


def test_specs_of_reads_every_version_of_many_names_at_once(
    registry: Registry, make_doc: MakeDoc
) -> None:
    for ns, name, version in [
        ("edge", "gw", "1.0.0"),
        ("edge", "gw", "2.0.0"),
        ("edge", "auth", "1.0.0"),
        ("shop", "gw", "1.5.0"),  # same name, other namespace: not asked for
        ("shop", "cart", "1.0.0"),
    ]:
        registry.register(make_doc(f"service:{ns}/{name}@{version}"))
    got = registry.store.specs_of("service", [("edge", "gw"), ("shop", "cart"), ("edge", "none")])
    assert {k: [v for v, _ in versions] for k, versions in got.items()} == {
        ("edge", "gw"): ["2.0.0", "1.0.0"],  # newest first
        ("shop", "cart"): ["1.0.0"],
    }
    assert got[("shop", "cart")][0][1] == registry.get("service:shop/cart@1.0.0").spec
    assert registry.store.specs_of("model", [("edge", "gw")]) == {}


def test_bulk_rows_keep_every_character(registry: Registry, make_doc: MakeDoc) -> None:
    """Many rows go to PostgreSQL through COPY: tabs, newlines, backslashes, quotes,
    non-ASCII and JSON escapes come back as they went in."""
    tricky = 'tab\there\nnew line \\ back \\N slash "quoted" \u00e9\u4e2d\U0001f600 \\u0000'
    docs = [
        make_doc(f"service:edge/s-{i}@1.0.0", title=f"{tricky} {i}", description=tricky)
        for i in range(60)
    ]
    report = registry.apply_many(docs, atomic=False)
    assert report.counts()["created"] == 60
    for i in (0, 59):
        entry = registry.get(f"service:edge/s-{i}@1.0.0")
        assert entry.metadata.title == f"{tricky} {i}"
        assert entry.metadata.description == tricky
    changes = [c for c in registry.changes() if c.op == "create"]
    assert len(changes) == 60 and [c.seq for c in changes] == sorted(c.seq for c in changes)
