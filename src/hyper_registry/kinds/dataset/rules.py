"""Dataset rules beyond the spec model, and the relations a dataset spec implies."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

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


def schema_is_compatible(spec: DatasetSpec, doc: Document, ctx: RuleContext) -> Iterator[Problem]:
    """A new schema keeps the dataset's compatibility mode, unless ``forceIncompatible`` says why not.

    Every reason is listed, then the downstream consumers the change would break.
    """
    if spec.schema_ is None or spec.compatibility == "NONE" or ctx.registry is None:
        return
    if spec.forceIncompatible is not None:
        return
    prev = ctx.previous or ctx.registry.store.latest(doc.ref)
    if (
        prev is not None
        and prev.metadata.version == doc.metadata.version
        and prev.spec.get("schema") == doc.spec.get("schema")
        and prev.spec.get("compatibility") == doc.spec.get("compatibility")
    ):
        return  # the latest version rewritten with the schema it was accepted with
    earlier = earlier_schemas(ctx.registry, doc.ref)
    reasons = evolution.check(spec.compatibility, spec.schema_, earlier)
    if not reasons:
        return
    for reason in reasons:
        yield Problem(
            ("spec", "schema"),
            f"{spec.compatibility}: {reason.text()}",
            "incompatible-schema",
        )
    consumers = downstream_of(ctx.registry, doc.ref.unversioned)
    if consumers:
        shown = ", ".join(consumers[:20]) + (" ..." if len(consumers) > 20 else "")
        yield Problem(
            ("spec", "schema"),
            f"consumers that would break: {shown}; set spec.forceIncompatible to a reason "
            "to accept the change anyway",
            "incompatible-schema",
        )
    else:
        yield Problem(
            ("spec", "schema"),
            "set spec.forceIncompatible to a reason to accept the change anyway",
            "incompatible-schema",
        )


def downstream_of(registry: Registry, ref: Ref) -> list[str]:
    """Every consumer downstream of the latest version of ``ref`` (nothing if it is new)."""
    from hyper_registry.core.errors import NotFound
    from hyper_registry.graph.lineage import build_lineage_graph

    try:
        graph = build_lineage_graph(registry, ref, "downstream", None)
    except NotFound:
        return []
    return [n.ref for n in graph.nodes if n.depth > 0]
