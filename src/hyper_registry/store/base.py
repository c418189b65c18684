"""The Store protocol: what the registry needs from a database, and the records it exchanges.

The registry talks to storage only through this protocol. ``SqlStore`` implements
it for SQLite and PostgreSQL; the contract suite in ``tests/store`` runs the same
tests against every implementation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal, Protocol

import sqlalchemy as sa

from hyper_registry.core.envelope import Entry
from hyper_registry.core.errors import ItemError
from hyper_registry.core.ref import Ref

WriteOp = Literal["create", "update", "apply", "delete"]
Outcome = Literal["created", "updated", "unchanged", "deleted"]
TraversalMode = Literal["dependencies", "dependents", "impact"]


@dataclass(frozen=True)
class RelationRow:
    """A relation as the entry declares it (or as its spec implies it)."""

    declared: str
    target: Ref
    origin: Literal["declared", "spec"] = "declared"


@dataclass
class PreparedWrite:
    """One validated change, ready to store. Built only by the write pipeline."""

    op: WriteOp
    ref: Ref
    body: dict[str, Any] | None = None
    body_json: str | None = None
    content_hash: str | None = None
    versioning: Literal["semver", "time"] = "semver"
    owner: str | None = None
    title: str | None = None
    relations: list[RelationRow] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
    expected_revision: int | None = None
    actor: str | None = None  # who asked, when items of several callers share one commit
    status: dict[str, Any] | None = None
    """Derived status keys (``KindSpec.status_of``), stored with the row."""
    records: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    """Change-log rows ``(op, detail)`` a batch rule attached, written with the entry when
    the write creates it (``dataset.schema`` when a new version changes the schema)."""

    @cached_property
    def ref_key(self) -> str:
        return str(self.ref)


class WriteResult:
    """What one write did. ``entry`` (the stored entry, for hooks and single writes) may be
    built lazily: a bulk write whose callers never look at it does not pay for it."""

    __slots__ = ("_build", "_entry", "index", "outcome", "ref", "revision", "seq", "uid")

    def __init__(
        self,
        index: int,
        ref: Ref,
        outcome: Outcome,
        uid: str,
        revision: int,
        seq: int | None = None,
        entry: Entry | None = None,
        *,
        build: Callable[[], Entry] | None = None,
    ) -> None:
        self.index = index
        self.ref = ref
        self.outcome: Outcome = outcome
        self.uid = uid
        self.revision = revision
        self.seq = seq
        self._entry = entry
        self._build = build

    @property
    def entry(self) -> Entry | None:
        if self._entry is None and self._build is not None:
            self._entry = self._build()
            self._build = None
        return self._entry

    @entry.setter
    def entry(self, value: Entry | None) -> None:
        self._entry = value
        self._build = None

    @property
    def pending_build(self) -> Callable[[], Entry] | None:
        """How ``entry`` will be built, while it has not been yet."""
        return self._build if self._entry is None else None

    @property
    def has_entry(self) -> bool:
        """Whether ``entry`` is (or can be built) without reading the store."""
        return self._entry is not None or self._build is not None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, WriteResult):
            return NotImplemented
        return self._key() == other._key()

    def _key(self) -> tuple[Any, ...]:
        return (self.index, self.ref, self.outcome, self.uid, self.revision, self.seq, self.entry)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"WriteResult(index={self.index!r}, ref={self.ref!r}, outcome={self.outcome!r}, "
            f"uid={self.uid!r}, revision={self.revision!r}, seq={self.seq!r})"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "ref": str(self.ref),
            "outcome": self.outcome,
            "uid": self.uid,
            "revision": self.revision,
            "seq": self.seq,
        }


TxHook = Callable[[sa.Connection, Sequence["WriteResult | ItemError"]], None]
"""Work done inside a write's transaction, after its entries (see ``Store.write``)."""


@dataclass(frozen=True)
class Idempotency:
    key: str
    request_hash: str


@dataclass(frozen=True)
class ChangeRecord:
    seq: int
    at: str
    actor: str
    op: str
    ref: str
    kind: str
    namespace: str
    uid: str | None
    revision: int | None
    detail: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "seq": self.seq,
            "at": self.at,
            "actor": self.actor,
            "op": self.op,
            "ref": self.ref,
            "kind": self.kind,
            "namespace": self.namespace,
            "uid": self.uid,
            "revision": self.revision,
        }
        if self.detail:
            out["detail"] = self.detail
        return out


@dataclass
class Query:
    """Filters for listing entries; every field narrows the result."""

    kinds: Sequence[str] | None = None
    namespace: str | None = None
    visible_namespaces: Sequence[str] | None = None  # None: every namespace
    name: str | None = None
    owner: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    tags: Sequence[str] = ()
    text: str | None = None
    spec: dict[str, str] = field(default_factory=dict)  # dotted spec path -> value (text equality)
    all_versions: bool = False
    limit: int = 100
    after: int | None = None  # cursor: the internal id of the last entry of the previous page


@dataclass
class Page:
    items: list[Entry]
    next_cursor: int | None


@dataclass(frozen=True)
class Hop:
    relation: str  # the relation name read from the previous node to this one
    ref: str


@dataclass(frozen=True)
class GraphHit:
    ref: Ref
    depth: int
    path: tuple[Hop, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "ref": str(self.ref),
            "depth": self.depth,
            "path": [{"relation": h.relation, "ref": h.ref} for h in self.path],
        }


@dataclass(frozen=True)
class RelationView:
    """A relation seen from one entry: its name read from that entry, and the other end."""

    type: str
    other: Ref
    resolved: Ref | None
    origin: str
    direction: Literal["outgoing", "incoming"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "target": str(self.other),
            "resolved": str(self.resolved) if self.resolved else None,
            "origin": self.origin,
            "direction": self.direction,
        }


@dataclass(frozen=True)
class StoreHealth:
    reachable: bool
    migrations_current: bool
    revision: str | None
    head: str | None
    detail: str | None = None


class Store(Protocol):
    """What the registry needs from a database.

    SQL stores also expose their SQLAlchemy ``engine`` for the tables that live beside
    the catalogue (API tokens).
    """

    @property
    def engine(self) -> sa.Engine: ...

    def record(
        self,
        *,
        actor: str,
        op: str,
        ref: str,
        kind: str,
        namespace: str,
        detail: dict[str, Any] | None = None,
    ) -> int: ...

    def migrate(self) -> None: ...

    def health(self) -> StoreHealth: ...

    def close(self) -> None: ...

    def write(
        self,
        items: Sequence[PreparedWrite],
        *,
        actor: str,
        atomic: bool = True,
        idempotency: Idempotency | None = None,
        within: TxHook | None = None,
    ) -> list[WriteResult | ItemError]: ...

    def get(self, ref: Ref) -> Entry: ...

    def latest(self, ref: Ref) -> Entry | None: ...

    def versions(self, ref: Ref) -> list[Entry]: ...

    def specs_of(
        self, kind: str, names: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], list[tuple[str, dict[str, Any]]]]:
        """``(version, spec)`` of every stored version of each ``(namespace, name)`` of
        ``kind``, newest first: what a batch rule compares a batch against, in one read."""
        ...

    def aliases(self, ref: Ref) -> dict[str, str]: ...

    def set_alias(self, ref: Ref, alias: str, *, actor: str) -> int: ...

    def set_status(self, ref: Ref, status: dict[str, Any], *, actor: str) -> Entry: ...

    def query(self, query: Query) -> Page: ...

    def count(self, query: Query) -> int: ...

    def changes(
        self,
        since: int = 0,
        limit: int = 1000,
        namespaces: Sequence[str] | None = None,
        *,
        audit: bool = True,
    ) -> list[ChangeRecord]: ...

    def traverse(
        self,
        start: Ref,
        mode: TraversalMode,
        *,
        depth: int,
        kinds: Sequence[str] | None = None,
        namespaces: Sequence[str] | None = None,
    ) -> list[GraphHit]: ...

    def relations_of(self, ref: Ref) -> list[RelationView]: ...
