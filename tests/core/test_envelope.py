"""The envelope: the canonical form a document is stored and hashed in, and an entry's output form."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hyper_registry import Document, Ref, Registry
from hyper_registry.core.envelope import content_hash

MakeDoc = Callable[..., dict[str, Any]]


def test_canonical_form_drops_empty_optional_fields(make_doc: MakeDoc) -> None:
    doc = Document.model_validate(
        make_doc(
            "service:edge/gw@1.0.0",
            labels={},
            tags=[],
            relations=[("uses", "model:shop/det@champion")],
        )
    )
    assert doc.ref == Ref("service", "edge", "gw", "1.0.0")
    assert doc.canonical() == {
        "apiVersion": "hyper-registry/v1",
        "kind": "service",
        "metadata": {"namespace": "edge", "name": "gw", "version": "1.0.0"},
        "spec": {},
        "relations": [{"type": "uses", "target": "model:shop/det@champion"}],
    }


def test_content_hash_ignores_key_order() -> None:
    a = {"kind": "service", "metadata": {"name": "gw", "namespace": "edge"}}
    b = {"metadata": {"namespace": "edge", "name": "gw"}, "kind": "service"}
    assert content_hash(a) == content_hash(b)
    assert content_hash(a) != content_hash({**a, "kind": "model"})
    assert content_hash(a).startswith("sha256:")


def test_entry_output_form(sqlite_registry: Registry, make_doc: MakeDoc) -> None:
    entry = sqlite_registry.register(make_doc("service:edge/gw@1.0.0", title="Gateway"))
    out = entry.to_dict()
    assert out["apiVersion"] == "hyper-registry/v1"
    assert "relations" not in out
    assert set(out["metadata"]) == {
        "namespace",
        "name",
        "version",
        "title",
        "uid",
        "revision",
        "createdAt",
        "updatedAt",
        "contentHash",
    }
    assert out["metadata"]["createdAt"].endswith("Z")
    assert out["status"] == {}
    # What a client reads back, minus the registry's fields, is a document it may write again.
    md = {
        k: v for k, v in out["metadata"].items() if k in {"namespace", "name", "version", "title"}
    }
    again = sqlite_registry.apply({"kind": out["kind"], "metadata": md, "spec": out["spec"]})
    assert again.outcome == "unchanged"
