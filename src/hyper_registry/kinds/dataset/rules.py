"""Dataset rules beyond the spec model, and the relations a dataset spec implies."""

from __future__ import annotations

from collections.abc import Iterator

from hyper_registry.core.envelope import Document
from hyper_registry.core.errors import Problem
from hyper_registry.core.kind import ImpliedRelation, RuleContext
from hyper_registry.core.ref import Ref
from hyper_registry.kinds.common import Loc, duplicates, is_self, unique_relations
from hyper_registry.kinds.dataset.spec import DatasetSpec


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
