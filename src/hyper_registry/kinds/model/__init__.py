"""The ``model`` kind: machine-learning models with lineage, metrics and aliases."""

from __future__ import annotations

from hyper_registry.core.kind import KindSpec
from hyper_registry.kinds.model.rules import (
    aliases,
    f1_agrees,
    harmonic_mean,
    implied_relations,
    lineage_is_sound,
    primary_metric_given,
)
from hyper_registry.kinds.model.spec import Metrics, ModelSpec

KIND = KindSpec(
    name="model",
    spec_model=ModelSpec,
    description="A machine-learning model: framework, lineage, metrics and aliases.",
    versioning="semver",
    rules=(f1_agrees, primary_metric_given, lineage_is_sound),
    implied_relations=implied_relations,
    aliases=aliases,
)

__all__ = ["KIND", "Metrics", "ModelSpec", "harmonic_mean"]
