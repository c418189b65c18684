"""The registry is generic over kinds: a kind is data (a ``KindSpec``) and the core does the rest.

These tests use a kind defined here, so they exercise the core without any built-in kind's rules:
its rules' problems keep their field paths, the relations and aliases its spec implies are stored,
its hooks run after commit (and a failing hook undoes nothing), and its sub-registry only takes
its own kind.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from hyper_registry import (
    Document,
    Entry,
    ImpliedRelation,
    Invalid,
    KindSpec,
    Problem,
    Ref,
    Registry,
    Settings,
    WriteResult,
)
from hyper_registry.core.kind import RuleContext


class GadgetSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    size: int = 1
    needs: list[Ref] = []
    nicknames: list[str] = []


def _size_rule(spec: GadgetSpec, doc: Document, ctx: RuleContext) -> Iterator[Problem]:
    if spec.size > 10:
        yield Problem(("spec", "size"), f"size {spec.size} is over 10", "too-big")
    if ctx.previous is not None and spec.size < ctx.previous.spec.get("size", 1):
        yield Problem(("spec", "size"), "a gadget never shrinks", "shrunk")


def _needs(spec: GadgetSpec) -> Iterator[ImpliedRelation]:
    for i, ref in enumerate(spec.needs):
        yield ImpliedRelation("dependsOn", ref, ("spec", "needs", i))


class Hooks:
    def __init__(self) -> None:
        self.registered: list[str] = []
        self.unregistered: list[str] = []
        self.fail = False

    def on_registered(self, registry: Registry, entry: Entry) -> None:
        self.registered.append(str(entry.ref))
        if self.fail:
            raise RuntimeError("hook failed")

    def on_unregistered(self, registry: Registry, entry: Entry) -> None:
        self.unregistered.append(str(entry.ref))


def _gadget_kind(hooks: Hooks) -> KindSpec:
    return KindSpec(
        name="gadget",
        spec_model=GadgetSpec,
        description="A test kind.",
        versioning="semver",
        rules=(_size_rule,),
        implied_relations=_needs,
        aliases=lambda spec: spec.nicknames,
        needs_previous=True,
        operations={"double": lambda registry, n: 2 * n},
        on_registered=hooks.on_registered,
        on_unregistered=hooks.on_unregistered,
    )


WIDGET = KindSpec(
    name="widget", spec_model=GadgetSpec, description="Time-ordered.", versioning="time"
)


@pytest.fixture
def hooks() -> Hooks:
    return Hooks()


@pytest.fixture
def reg(tmp_path: Path, hooks: Hooks) -> Iterator[Registry]:
    with Registry.open(
        Settings(data_dir=tmp_path, database_url=None), kinds=[_gadget_kind(hooks), WIDGET]
    ) as registry:
        yield registry


def gadget(version: str = "1.0.0", name: str = "g", **spec: Any) -> dict[str, Any]:
    return {
        "kind": "gadget",
        "metadata": {"namespace": "lab", "name": name, "version": version},
        "spec": spec,
    }


def test_only_the_given_kinds_exist(reg: Registry) -> None:
    assert reg.kinds.names == ["gadget", "widget"]
    with pytest.raises(Invalid) as info:
        reg.register({**gadget(), "kind": "model"})
    assert info.value.problems[0].loc == ("kind",)
    with pytest.raises(Invalid):
        reg.kind("model")


def test_a_kind_registered_twice_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        Registry(Settings(data_dir=tmp_path, database_url=None), kinds=[WIDGET, WIDGET])


def test_rule_problems_keep_their_paths(reg: Registry) -> None:
    with pytest.raises(Invalid) as info:
        reg.register(gadget(size=11))
    assert [(p.loc, p.code) for p in info.value.problems] == [(("spec", "size"), "too-big")]
    with pytest.raises(Invalid) as info:
        reg.register(gadget(size="big"))
    assert info.value.problems[0].loc == ("spec", "size")
    assert reg.count() == 0


def test_rules_see_the_previous_version(reg: Registry) -> None:
    reg.register(gadget("1.0.0", size=5))
    with pytest.raises(Invalid) as info:
        reg.register(gadget("1.1.0", size=3))
    assert info.value.problems[0].code == "shrunk"
    reg.register(gadget("1.1.0", size=6))


def test_implied_relations_and_aliases_are_stored(reg: Registry) -> None:
    reg.register(gadget("1.0.0", name="base"))
    reg.register(gadget("1.0.0", needs=["gadget:lab/base"], nicknames=["stable"]))
    views = reg.relations("gadget:lab/g")
    assert [(v.type, str(v.resolved), v.origin) for v in views] == [
        ("dependsOn", "gadget:lab/base@1.0.0", "spec")
    ]
    assert reg.aliases("gadget:lab/g") == {"stable": "1.0.0"}
    with pytest.raises(Invalid) as info:
        reg.register(gadget("2.0.0", nicknames=["Not Valid"]))
    assert info.value.problems[0].loc == ("spec", "aliases", 0)


def test_hooks_run_after_commit_and_a_failing_hook_undoes_nothing(
    reg: Registry, hooks: Hooks
) -> None:
    reg.register(gadget("1.0.0"))
    reg.apply(gadget("1.0.0"))  # unchanged: no hook
    assert hooks.registered == ["gadget:lab/g@1.0.0"]
    hooks.fail = True
    entry = reg.register(gadget("2.0.0"))
    assert entry.revision == 1
    assert reg.get("gadget:lab/g@2.0.0").uid == entry.uid
    reg.unregister("gadget:lab/g@1.0.0")
    assert hooks.unregistered == ["gadget:lab/g@1.0.0"]


def test_listeners_see_what_changed(reg: Registry) -> None:
    seen: list[list[tuple[str, str]]] = []

    def listener(results: Sequence[WriteResult]) -> None:
        seen.append([(str(r.ref), r.outcome) for r in results])

    def broken(results: Sequence[WriteResult]) -> None:
        raise RuntimeError("listener failed")

    reg.subscribe(broken)
    reg.subscribe(listener)
    reg.apply_many([gadget("1.0.0"), gadget("1.0.0", name="h")])
    reg.apply(gadget("1.0.0"))
    reg.unregister("gadget:lab/h@1.0.0")
    assert seen == [
        [("gadget:lab/g@1.0.0", "created"), ("gadget:lab/h@1.0.0", "created")],
        [("gadget:lab/h@1.0.0", "deleted")],
    ]


def test_the_kind_sub_registry(reg: Registry) -> None:
    gadgets = reg.kind("gadget")
    assert gadgets.name == "gadget"
    gadgets.register(gadget("1.0.0"))
    assert gadgets.get("lab/g").metadata.version == "1.0.0"  # the kind is implied
    assert gadgets.update(gadget("1.0.0", size=2)).revision == 2
    assert [str(e.ref) for e in gadgets.query().items] == ["gadget:lab/g@1.0.0"]
    assert gadgets.operation("double")(21) == 42
    with pytest.raises(Invalid):
        gadgets.operation("triple")
    with pytest.raises(Invalid):
        gadgets.get("widget:lab/g")
    with pytest.raises(Invalid):
        gadgets.register(
            {
                **gadget(),
                "kind": "widget",
                "metadata": {"namespace": "a", "name": "b", "version": "x"},
            }
        )
    assert gadgets.unregister("lab/g@1.0.0").ref == Ref("gadget", "lab", "g", "1.0.0")


def test_versioning_comes_from_the_kind(reg: Registry) -> None:
    with pytest.raises(Invalid) as info:
        reg.register(gadget("2026-01"))
    assert info.value.problems[0].loc == ("metadata", "version")
    widget = {"kind": "widget", "metadata": {"namespace": "lab", "name": "w", "version": "b"}}
    reg.register(widget)
    reg.register({**widget, "metadata": {**widget["metadata"], "version": "a"}})
    assert reg.get("widget:lab/w").metadata.version == "a"


# -- in-transaction hooks --------------------------------------------------------------


def _sized(registry: Registry, conn: Any, entries: Sequence[Entry]) -> None:
    from hyper_registry.store.writer import set_status_key

    for entry in entries:
        if entry.spec.get("size") == 9:
            raise RuntimeError("the derived data cannot be written")
        set_status_key(conn, entry.uid, "size", {"doubled": 2 * entry.spec.get("size", 1)})


DERIVED = KindSpec(
    name="derived", spec_model=GadgetSpec, description="Derives status.", in_transaction=_sized
)


def derived(version: str, size: int) -> dict[str, Any]:
    return {
        "kind": "derived",
        "metadata": {"namespace": "lab", "name": "d", "version": version},
        "spec": {"size": size},
    }


def test_in_transaction_hooks_write_with_the_entry_and_roll_back_with_it(tmp_path: Path) -> None:
    with Registry.open(Settings(data_dir=tmp_path), kinds=[DERIVED]) as reg:
        reg.register(derived("1.0.0", 3))
        assert reg.get("derived:lab/d@1.0.0").status == {"size": {"doubled": 6}}
        reg.update(derived("1.0.0", 4))
        assert reg.get("derived:lab/d@1.0.0").status == {"size": {"doubled": 8}}
        seq = reg.changes()[-1].seq
        # A hook that fails refuses the whole batch: no entry, no derived data, no change row.
        with pytest.raises(RuntimeError):
            reg.apply_many([derived("2.0.0", 5), derived("3.0.0", 9)])
        assert [e.metadata.version for e in reg.versions("derived:lab/d")] == ["1.0.0"]
        assert reg.changes(since=seq) == []
        # In bulk, one commit covers the entries and their derived data.
        report = reg.apply_many([derived(f"4.0.{i}", i % 5) for i in range(50)], atomic=False)
        assert report.counts()["created"] == 50
        assert reg.get("derived:lab/d@4.0.7").status == {"size": {"doubled": 4}}
