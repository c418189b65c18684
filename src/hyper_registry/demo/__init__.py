"""The demo organisation: a payments platform across all six kinds, with its relations.

Northwind Pay runs a public edge, a payments API and the services behind it, a card
fraud model trained on labelled transactions, two WebAssembly plugins, the Terraform
stacks and Helm chart that deploy it all, and the SBOMs, advisories and VEX statements
of its security team. ``hyper-registry demo`` and the run command load it; the
descriptors live in ``data/`` as multi-document YAML, one file per area (see README.md).

    >>> from hyper_registry import Registry, Settings
    >>> with Registry.open(Settings(data_dir="/tmp/hr")) as reg:   # doctest: +SKIP
    ...     load_demo(reg).counts()
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from hyper_registry.core.loader import parse_text
from hyper_registry.core.registry import ApplyReport, Registry

DATA_FILES: tuple[str, ...] = (
    "datasets.yaml",
    "models.yaml",
    "plugins.yaml",
    "infra.yaml",
    "services.yaml",
    "sboms.yaml",
    "advisories.yaml",
)
"""The data files in dependency-friendly order: what is referred to comes first."""

DEMO_ACTOR = "demo"


def demo_documents() -> list[dict[str, Any]]:
    """Every demo descriptor, in the order they are applied (fresh copies on every call)."""
    data = resources.files(__name__).joinpath("data")
    documents: list[dict[str, Any]] = []
    for name in DATA_FILES:
        text = data.joinpath(name).read_text(encoding="utf-8")
        for _source, document in parse_text(f"demo/{name}", text):
            documents.append(document)
    return documents


def load_demo(registry: Registry, *, actor: str = DEMO_ACTOR) -> ApplyReport:
    """Apply the demo organisation in one atomic batch.

    Idempotent: applying it again reports every document ``unchanged``. If any document
    were refused nothing would be written (:class:`~hyper_registry.core.errors.BatchRefused`).
    """
    return registry.apply_many(demo_documents(), actor=actor, atomic=True)


__all__ = ["DATA_FILES", "demo_documents", "load_demo"]
