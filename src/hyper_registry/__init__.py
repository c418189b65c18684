"""Hyper Registry: one catalog and one relation graph for everything an organisation ships.

The public API is what this module exports; everything else is internal.
"""

from hyper_registry.core.envelope import Document, Entry
from hyper_registry.core.errors import (
    AlreadyExists,
    BatchRefused,
    Conflict,
    Forbidden,
    HyperRegistryError,
    Invalid,
    NotFound,
    Problem,
    TooLarge,
    Unavailable,
)
from hyper_registry.core.kind import ImpliedRelation, KindSpec
from hyper_registry.core.ref import Ref
from hyper_registry.core.registry import ApplyReport, KindRegistry, Registry
from hyper_registry.core.settings import Settings
from hyper_registry.store.base import GraphHit, Page, Query, WriteResult

__version__ = "0.1.0"

__all__ = [
    "AlreadyExists",
    "ApplyReport",
    "BatchRefused",
    "Conflict",
    "Document",
    "Entry",
    "Forbidden",
    "GraphHit",
    "HyperRegistryError",
    "ImpliedRelation",
    "Invalid",
    "KindRegistry",
    "KindSpec",
    "NotFound",
    "Page",
    "Problem",
    "Query",
    "Ref",
    "Registry",
    "Settings",
    "TooLarge",
    "Unavailable",
    "WriteResult",
    "__version__",
]
