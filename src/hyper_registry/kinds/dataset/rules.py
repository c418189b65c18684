"""Dataset rules beyond the spec model, and the relations a dataset spec implies."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import orjson
from pydantic import ValidationError

from hyper_registry.core.envelope import Document
from hyper_registry.core.errors import Problem
from hyper_registry.core.kind import ImpliedRelation, RuleContext
from hyper_registry.core.ref import Ref
from hyper_registry.kinds.common import Loc, duplicates, is_self, unique_relations
from hyper_registry.kinds.dataset import evolution
from hyper_registry.kinds.dataset.spec import DatasetSpec, Schema

if TYPE_CHECKING:
    from hyper_registry.core.registry import Registry
    from hyper_registry.store.base import PreparedWrite


def _sources(spec: DatasetSpec) -> Iterator[tuple[Loc, Ref]]:
    """Every dataset this one is derived from, with where it is written."""
    for i, ref in enumerate(spec.upstream):
        yield ("spec", "upstream", i), ref
    for t, transformation in enumerate(spec.transformations):
        for i, ref in enumerate(transformation.inputs):
            yield ("spec", "transformations", t, "inputs", i), ref


def names_are_unique(spec: DatasetSpec, doc: Document, ctx: RuleContext) -> Iterator[Problem]:
    """Schema field names, transformation names and upstream datasets are listed once."""
    if spec.schema_ is not None:
        fields = spec.schema_.fields
        for p in duplicates(fields, ("spec", "schema", "fields"), "field", key=lambda f: f.name):
            yield Problem((*p.loc, "name"), p.message, p.code)
    steps = spec.transformations
    for p in duplicates(steps, ("spec", "transformations"), "transformation", key=lambda t: t.name):
        yield Problem((*p.loc, "name"), p.message, p.code)
    yield from duplicates(spec.upstream, ("spec", "upstream"), "dataset")


def not_derived_from_itself(
    spec: DatasetSpec, doc: Document, ctx: RuleContext
) -> Iterator[Problem]:
    """No upstream dataset or transformation input is this very dataset version."""
    md = doc.metadata
    for loc, ref in _sources(spec):
        if is_self(ref, doc.kind, md.namespace, md.name, md.version):
            yield Problem(loc, f"{str(ref)!r} is this dataset itself", "self-reference")


def implied_relations(spec: DatasetSpec) -> Iterator[ImpliedRelation]:
    """``derivedFrom`` each upstream dataset and each transformation input, once each."""
    yield from unique_relations(
        ImpliedRelation("derivedFrom", ref, loc) for loc, ref in _sources(spec)
    )


def earlier_schemas(
    registry: Registry, ref: Ref, *, older_only: bool = False
) -> list[tuple[str, Schema]]:
    """(version, schema) of the other stored versions of ``ref``'s dataset with a schema.

    Newest first. ``older_only``: only the versions stored before ``ref``'s version.
    """
    out: list[tuple[str, Schema]] = []
    entries = registry.versions(ref.unversioned)
    versions = [e.metadata.version for e in entries]
    if older_only and ref.version in versions:
        entries = entries[versions.index(ref.version) + 1 :]
    for entry in entries:
        if entry.metadata.version == ref.version:
            continue
        try:
            old = DatasetSpec.model_validate(entry.spec).schema_
        except ValidationError:  # written under older rules: nothing to compare against
            continue
        if old is not None:
            out.append((entry.metadata.version, old))
    return out


def schemas_are_compatible(
    registry: Registry, items: Sequence[PreparedWrite]
) -> dict[int, list[Problem]]:
    """A new schema keeps the dataset's compatibility mode, unless ``forceIncompatible`` says why not.

    A batch rule: the stored versions of every dataset named in the batch are read at once,
    and a version earlier in the same batch counts as stored. Every reason is listed, then
    the downstream consumers the change would break. A new version whose schema differs
    from the previous one gets a ``dataset.schema`` change-log row with the diff (and
    ``dataset.forced`` with every reason it broke, when it was forced).
    """
    raws: list[dict[str, Any]] = []
    for item in items:
        body = item.body if item.body is not None else orjson.loads(item.body_json or "{}")
        raws.append(body.get("spec") or {})
    names = [
        (it.ref.namespace, it.ref.name)
        for it, raw in zip(items, raws, strict=True)
        if raw.get("schema")
    ]
    if not names:
        return {}
    stored = registry.store.specs_of("dataset", names)
    # (version, spec) of each name, newest first; the batch's own accepted versions in front.
    known: dict[tuple[str, str], list[tuple[str, dict[str, Any]]]] = {
        key: list(versions) for key, versions in stored.items()
    }
    out: dict[int, list[Problem]] = {}
    for i, (item, raw) in enumerate(zip(items, raws, strict=True)):
        if not raw.get("schema"):
            continue
        versions = known.setdefault((item.ref.namespace, item.ref.name), [])
        same = [s for v, s in versions if v == item.ref.version]
        others = [v for v in versions if v[0] != item.ref.version]
        if not same:
            versions.insert(0, (item.ref.version or "", raw))
        mode = raw.get("compatibility", "BACKWARD")
        if (
            others
            and not str(mode).endswith("_TRANSITIVE")
            and others[0][1].get("schema") == raw["schema"]
            and others[0][1].get("compatibility", "BACKWARD") == mode
        ):
            continue  # the schema of the version before, unchanged: nothing to check or record
        spec = DatasetSpec.model_validate(raw)
        earlier = _schemas(others)
        rewrite = bool(same) and versions[0][0] == item.ref.version
        if not (
            rewrite
            and same[0].get("schema") == raw.get("schema")
            and same[0].get("compatibility") == raw.get("compatibility")
        ):
            problems = _incompatibilities(registry, item, spec, earlier)
            if problems:
                out[i] = problems
                if not same:
                    versions.pop(0)  # refused: later versions of the batch do not see it
                continue
        if not same and earlier:
            item.records.extend(_history(spec, earlier))
    return out


def _schemas(versions: Iterable[tuple[str, dict[str, Any]]]) -> list[tuple[str, Schema]]:
    out: list[tuple[str, Schema]] = []
    for version, raw in versions:
        if not raw.get("schema"):
            continue
        try:
            old = DatasetSpec.model_validate(raw).schema_
        except ValidationError:  # written under older rules: nothing to compare against
            continue
        if old is not None:
            out.append((version, old))
    return out


def _incompatibilities(
    registry: Registry, item: PreparedWrite, spec: DatasetSpec, earlier: list[tuple[str, Schema]]
) -> list[Problem]:
    assert spec.schema_ is not None
    if spec.compatibility == "NONE" or spec.forceIncompatible is not None:
        return []
    reasons = evolution.check(spec.compatibility, spec.schema_, earlier)
    if not reasons:
        return []
    problems = [
        Problem(("spec", "schema"), f"{spec.compatibility}: {r.text()}", "incompatible-schema")
        for r in reasons
    ]
    consumers = downstream_of(registry, item.ref.unversioned)
    if consumers:
        shown = ", ".join(consumers[:20]) + (" ..." if len(consumers) > 20 else "")
        why = (
            f"consumers that would break: {shown}; set spec.forceIncompatible to a reason "
            "to accept the change anyway"
        )
    else:
        why = "set spec.forceIncompatible to a reason to accept the change anyway"
    problems.append(Problem(("spec", "schema"), why, "incompatible-schema"))
    return problems


def _history(
    spec: DatasetSpec, earlier: list[tuple[str, Schema]]
) -> list[tuple[str, dict[str, Any]]]:
    """Change-log rows of a new version: its schema diff, and what a forced change broke."""
    assert spec.schema_ is not None
    records: list[tuple[str, dict[str, Any]]] = []
    changes = evolution.diff(earlier[0][1], spec.schema_)
    if changes:
        records.append(("dataset.schema", {"previous": earlier[0][0], "changes": changes}))
    if spec.forceIncompatible is not None:
        reasons = evolution.check(spec.compatibility, spec.schema_, earlier)
        if reasons:
            records.append(
                (
                    "dataset.forced",
                    {
                        "mode": spec.compatibility,
                        "reason": spec.forceIncompatible,
                        "incompatibilities": [r.text() for r in reasons],
                    },
                )
            )
    return records


def downstream_of(registry: Registry, ref: Ref) -> list[str]:
    """Every consumer downstream of the latest version of ``ref`` (nothing if it is new)."""
    from hyper_registry.core.errors import NotFound
    from hyper_registry.graph.lineage import build_lineage_graph

    try:
        graph = build_lineage_graph(registry, ref, "downstream", None)
    except NotFound:
        return []
    return [n.ref for n in graph.nodes if n.depth > 0]
