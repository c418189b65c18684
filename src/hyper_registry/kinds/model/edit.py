"""Turning a stored entry back into a document, to write a changed version through the pipeline."""

from __future__ import annotations

from typing import Any

from hyper_registry.core.envelope import Entry

REGISTRY_FIELDS = ("uid", "revision", "createdAt", "updatedAt", "contentHash")


def document_of(entry: Entry) -> dict[str, Any]:
    """The document a client would write to get ``entry`` (registry-only fields removed)."""
    data = entry.to_dict()
    md = {k: v for k, v in data["metadata"].items() if k not in REGISTRY_FIELDS}
    doc: dict[str, Any] = {
        "apiVersion": data.get("apiVersion", "hyper-registry/v1"),
        "kind": entry.kind,
        "metadata": md,
        "spec": dict(data.get("spec") or {}),
    }
    if data.get("relations"):
        doc["relations"] = list(data["relations"])
    return doc
