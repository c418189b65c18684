"""Model rules beyond the spec model, implied relations and aliases."""

from __future__ import annotations

from collections.abc import Iterator

from hyper_registry.core.envelope import Document
from hyper_registry.core.errors import Problem
from hyper_registry.core.kind import ImpliedRelation, RuleContext
from hyper_registry.kinds.common import duplicates, is_self, unique_relations
from hyper_registry.kinds.model.spec import ModelSpec

F1_TOLERANCE = 0.01


def harmonic_mean(precision: float, recall: float) -> float:
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def f1_agrees(spec: ModelSpec, doc: Document, ctx: RuleContext) -> Iterator[Problem]:
    """When precision, recall and f1 are all given, f1 is their harmonic mean (within 0.01)."""
    m = spec.metrics
    if m.precision is None or m.recall is None or m.f1 is None:
        return
    expected = harmonic_mean(m.precision, m.recall)
    if abs(m.f1 - expected) > F1_TOLERANCE + 1e-9:
        yield Problem(
            ("spec", "metrics", "f1"),
            f"f1 {m.f1:g} does not agree with precision {m.precision:g} and recall {m.recall:g} "
            f"(harmonic mean {expected:.3f}, tolerance {F1_TOLERANCE:g})",
            "inconsistent-metrics",
        )


def primary_metric_given(spec: ModelSpec, doc: Document, ctx: RuleContext) -> Iterator[Problem]:
    """``primaryMetric`` names a metric the model declares."""
    name = spec.primaryMetric
    if name is None:
        return
    have = spec.metrics.as_dict()
    if name not in have:
        listed = ", ".join(sorted(have)) if have else "none"
        yield Problem(
            ("spec", "primaryMetric"),
            f"primaryMetric {name!r} is not among the model's metrics ({listed})",
            "unknown-metric",
        )


def lineage_is_sound(spec: ModelSpec, doc: Document, ctx: RuleContext) -> Iterator[Problem]:
    """A model is not its own parent; datasets and aliases are listed once."""
    md = doc.metadata
    if spec.parent is not None and is_self(
        spec.parent, doc.kind, md.namespace, md.name, md.version
    ):
        yield Problem(
            ("spec", "parent"),
            f"parent {str(spec.parent)!r} is this model itself",
            "self-reference",
        )
    yield from duplicates(spec.trainingDatasets, ("spec", "trainingDatasets"), "dataset")
    yield from duplicates(spec.evaluationDatasets, ("spec", "evaluationDatasets"), "dataset")
    yield from duplicates(spec.aliases, ("spec", "aliases"), "alias")


def implied_relations(spec: ModelSpec) -> Iterator[ImpliedRelation]:
    """``parent`` is ``derivedFrom``; each training dataset is ``trainedOn``."""
    rels: list[ImpliedRelation] = []
    if spec.parent is not None:
        rels.append(ImpliedRelation("derivedFrom", spec.parent, ("spec", "parent")))
    rels.extend(
        ImpliedRelation("trainedOn", ds, ("spec", "trainingDatasets", i))
        for i, ds in enumerate(spec.trainingDatasets)
    )
    yield from unique_relations(rels)


def aliases(spec: ModelSpec) -> Iterator[str]:
    """The aliases the document claims, each once, in the order written."""
    yield from dict.fromkeys(spec.aliases)
