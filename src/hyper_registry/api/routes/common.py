"""Helpers shared by the entry routes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Request

from hyper_registry.api.audit import set_target
from hyper_registry.api.auth import not_found
from hyper_registry.api.params import Preconditions
from hyper_registry.core.envelope import Entry
from hyper_registry.core.errors import Invalid, NotFound, Problem
from hyper_registry.core.ref import NAMESPACE_MAX, Ref, name_problem
from hyper_registry.core.registry import Registry
from hyper_registry.store.base import Outcome


def get_entry(registry: Registry, ref: Ref) -> Entry:
    """The entry ``ref`` names; a miss reads exactly like an invisible entry."""
    try:
        return registry.get(ref)
    except NotFound:
        raise not_found(ref) from None


def note_ref(request: Request, ref: Ref) -> None:
    set_target(request, ref.kind, ref.namespace, str(ref))


def body_namespace(doc: Any) -> str | None:
    """The namespace a raw document names, if it is a well-formed name."""
    if not isinstance(doc, Mapping):
        return None
    md = doc.get("metadata")
    ns = md.get("namespace") if isinstance(md, Mapping) else None
    if isinstance(ns, str) and name_problem(ns, "namespace", NAMESPACE_MAX) is None:
        return ns
    return None


def body_ref_hint(doc: Any) -> str | None:
    """``kind:namespace/name@version`` of a raw document, for messages and audit rows."""
    if not isinstance(doc, Mapping):
        return None
    md = doc.get("metadata")
    if not isinstance(md, Mapping):
        return None
    parts = (doc.get("kind"), md.get("namespace"), md.get("name"), md.get("version"))
    if not all(isinstance(p, str) for p in parts):
        return None
    text = f"{parts[0]}:{parts[1]}/{parts[2]}@{parts[3]}"
    return text[:600]


def require_agreement(doc: Any, ref: Ref, *, version: bool) -> None:
    """The body must name the entry its path names (no namespace switching): else 422."""
    if not isinstance(doc, Mapping):
        raise Invalid.at((), "a document must be a mapping (an object)", "not-an-object")
    md = doc.get("metadata")
    md = md if isinstance(md, Mapping) else {}
    checks: list[tuple[tuple[str, ...], Any, str | None]] = [
        (("kind",), doc.get("kind"), ref.kind),
        (("metadata", "namespace"), md.get("namespace"), ref.namespace),
        (("metadata", "name"), md.get("name"), ref.name),
    ]
    if version:
        checks.append((("metadata", "version"), md.get("version"), ref.version))
    problems = [
        Problem(loc, f"{loc[-1]} {got!r} does not match the path's {want!r}", "path-mismatch")
        for loc, got, want in checks
        if isinstance(got, str) and got != want
    ]
    if problems:
        raise Invalid("the document does not match the path", problems=problems)


def put_document(
    registry: Registry,
    doc: Any,
    pre: Preconditions,
    *,
    actor: str,
    idempotency_key: str | None,
) -> tuple[Entry, Outcome]:
    """PUT semantics: create or replace; If-Match guards the revision, If-None-Match: * creates."""
    if pre.must_not_exist:
        entry = registry.register(doc, actor=actor, idempotency_key=idempotency_key)
        return entry, "created"
    if pre.must_exist:
        entry = registry.update(
            doc, expected_revision=pre.revision, actor=actor, idempotency_key=idempotency_key
        )
        return entry, "updated"
    result = registry.apply(doc, actor=actor, idempotency_key=idempotency_key)
    entry = result.entry if result.entry is not None else registry.get(result.ref)
    return entry, result.outcome
