"""The ``dataset`` kind: versioned data with a schema, quality measures and lineage."""

from __future__ import annotations

from hyper_registry.core.kind import KindSpec
from hyper_registry.kinds.dataset.hooks import in_transaction, on_registered, on_unregistered
from hyper_registry.kinds.dataset.rules import (
    implied_relations,
    names_are_unique,
    not_derived_from_itself,
    schemas_are_compatible,
)
from hyper_registry.kinds.dataset.spec import (
    COMPATIBILITY_MODES,
    QUALITY_DIMENSIONS,
    DatasetSpec,
    Quality,
    Schema,
    SchemaField,
    Transformation,
)

KIND = KindSpec(
    name="dataset",
    spec_model=DatasetSpec,
    description="A dataset version: format, location, schema, compatibility, quality and lineage.",
    versioning="time",
    rules=(names_are_unique, not_derived_from_itself),
    batch_rules=(schemas_are_compatible,),
    implied_relations=implied_relations,
    in_transaction=in_transaction,
    on_registered=on_registered,
    on_unregistered=on_unregistered,
)

__all__ = [
    "COMPATIBILITY_MODES",
    "KIND",
    "QUALITY_DIMENSIONS",
    "DatasetSpec",
    "Quality",
    "Schema",
    "SchemaField",
    "Transformation",
]
