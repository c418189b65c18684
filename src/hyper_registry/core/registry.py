"""The Registry: built from Settings, passed explicitly, routes by kind.

>>> from hyper_registry import Registry, Settings
>>> with Registry.open(Settings(data_dir="/tmp/hr")) as reg:   # doctest: +SKIP
...     reg.apply({...})
...     reg.impact("security:advisories/cve-2021-23337")
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, TypeVar, cast

from hyper_registry.auth.tokens import TokenService
from hyper_registry.core.bulk import Batch, paused_gc, prepare_batches
from hyper_registry.core.envelope import Document, Entry
from hyper_registry.core.errors import (
    BatchRefused,
    HyperRegistryError,
    Invalid,
    ItemError,
    NotFound,
    Unavailable,
)
from hyper_registry.core.group import GroupCommitter
from hyper_registry.core.kind import KindSpec
from hyper_registry.core.kinds import KindCatalog
from hyper_registry.core.pipeline import Listener, WritePipeline, request_hash
from hyper_registry.core.ref import Ref
from hyper_registry.core.settings import Settings
from hyper_registry.core.writer_process import RemoteWriter
from hyper_registry.store.base import (
    ChangeRecord,
    GraphHit,
    Idempotency,
    Page,
    PreparedWrite,
    Query,
    RelationView,
    Store,
    TraversalMode,
    WriteResult,
)

RefLike = Ref | str
T = TypeVar("T")
DEFAULT_ACTOR = "local"


def as_ref(value: RefLike) -> Ref:
    return value if isinstance(value, Ref) else Ref.parse(value)


@dataclass
class ApplyReport:
    """What a bulk apply did: one result or refusal per document, in input order."""

    results: list[WriteResult] = field(default_factory=list)
    errors: list[ItemError] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out = {
            "created": 0,
            "updated": 0,
            "unchanged": 0,
            "deleted": 0,
            "refused": len(self.errors),
        }
        for r in self.results:
            out[r.outcome] += 1
        return out

    @property
    def ok(self) -> bool:
        return not self.errors


Progress = Callable[[int], None]


class KindRegistry:
    """The sub-registry of one kind: the same eight operations for every kind."""

    def __init__(self, registry: Registry, kind: KindSpec) -> None:
        self._registry = registry
        self.spec = kind

    @property
    def name(self) -> str:
        return self.spec.name

    def validate(self, document: Mapping[str, Any] | Document) -> Document:
        doc = self._registry.validate(document)
        self._same_kind(doc.kind)
        return doc

    def register(
        self, document: Mapping[str, Any] | Document, *, actor: str = DEFAULT_ACTOR
    ) -> Entry:
        self._same_kind(self._registry.pipeline.parse(document).kind)
        return self._registry.register(document, actor=actor)

    def get(self, ref: RefLike) -> Entry:
        return self._registry.get(self._own(ref))

    def update(
        self,
        document: Mapping[str, Any] | Document,
        *,
        expected_revision: int | None = None,
        actor: str = DEFAULT_ACTOR,
    ) -> Entry:
        self._same_kind(self._registry.pipeline.parse(document).kind)
        return self._registry.update(document, expected_revision=expected_revision, actor=actor)

    def unregister(
        self, ref: RefLike, *, expected_revision: int | None = None, actor: str = DEFAULT_ACTOR
    ) -> Entry:
        return self._registry.unregister(
            self._own(ref), expected_revision=expected_revision, actor=actor
        )

    def query(self, query: Query | None = None, **filters: Any) -> Page:
        q = query or Query(**filters)
        q.kinds = [self.name]
        return self._registry.query(q)

    def initialize(self) -> None:
        """Prepare the kind's own resources (the shared store is initialised by the registry)."""
        init = self.spec.operations.get("initialize")
        if init is not None:
            init(self._registry)

    def close(self) -> None:
        close = self.spec.operations.get("close")
        if close is not None:
            close(self._registry)

    def operation(self, name: str) -> Callable[..., Any]:
        """A kind's own operation, bound to the registry."""
        try:
            fn = self.spec.operations[name]
        except KeyError:
            known = ", ".join(sorted(self.spec.operations)) or "none"
            raise Invalid.at(
                ("operation",), f"kind {self.name!r} has no operation {name!r}; it has: {known}"
            ) from None
        registry = self._registry

        def bound(*args: Any, **kwargs: Any) -> Any:
            return fn(registry, *args, **kwargs)

        return bound

    def _own(self, ref: RefLike) -> Ref:
        r = (
            as_ref(ref)
            if isinstance(ref, Ref) or ":" in str(ref)
            else Ref.parse(str(ref), default_kind=self.name)
        )
        self._same_kind(r.kind)
        return r

    def _same_kind(self, kind: str) -> None:
        if kind != self.name:
            raise Invalid.at(
                ("kind",), f"this is the {self.name!r} registry; got a {kind!r} document"
            )


class Registry:
    """The orchestrator over a store and a catalogue of kinds. Construct it, then ``initialize()``."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        store: Store | None = None,
        kinds: Iterable[KindSpec] | None = None,
    ) -> None:
        self.settings = settings or Settings()
        if store is None:
            from hyper_registry.store.sql import SqlStore

            store = SqlStore(self.settings)
        if kinds is None:
            from hyper_registry.kinds import builtin_kinds

            kinds = builtin_kinds()
        self.store: Store = store
        self.kinds = KindCatalog(kinds)
        self.pipeline = WritePipeline(self.kinds, self.store, self.settings)
        self.pipeline.bind(self)
        self._subs = {k.name: KindRegistry(self, k) for k in self.kinds}
        self._committer = GroupCommitter(
            self.pipeline,
            writer=(
                RemoteWriter(self.settings.writer_socket)
                if self.settings.writer_socket and self.settings.is_sqlite
                else None
            ),
        )
        self._tokens: TokenService | None = None
        self._extensions: dict[Callable[[Registry], Any], Any] = {}

    @classmethod
    def open(cls, settings: Settings | None = None, **kwargs: Any) -> Registry:
        """Construct and initialize (migrate the store) in one step."""
        reg = cls(settings, **kwargs)
        reg.initialize()
        return reg

    def initialize(self) -> None:
        self.store.migrate()
        for sub in self._subs.values():
            sub.initialize()

    @property
    def tokens(self) -> TokenService:
        """API tokens, kept in the registry's database."""
        if self._tokens is None:
            self._tokens = TokenService(self.store.engine)
        return self._tokens

    def extension(self, factory: Callable[[Registry], T]) -> T:
        """The one instance, for this registry, of a domain service built by ``factory``.

        Domain services (the security index, the health checker, the plugin runtime...)
        hang off the registry this way instead of living in module globals. The first
        call builds it with ``factory(registry)``; ``close()`` closes it (if it has a
        ``close`` method) before the store.
        """
        try:
            return cast(T, self._extensions[factory])
        except KeyError:
            instance = factory(self)
            self._extensions[factory] = instance
            return instance

    def close(self) -> None:
        self._committer.close()
        for instance in reversed(list(self._extensions.values())):
            closer = getattr(instance, "close", None)
            if callable(closer):
                closer()
        self._extensions.clear()
        for sub in self._subs.values():
            sub.close()
        self.store.close()

    def __enter__(self) -> Registry:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- kinds -------------------------------------------------------------------------

    def kind(self, name: str) -> KindRegistry:
        self.kinds.get(name)
        return self._subs[name]

    def subscribe(self, listener: Listener) -> None:
        self.pipeline.subscribe(listener)

    # -- writes ------------------------------------------------------------------------

    def validate(self, document: Mapping[str, Any] | Document) -> Document:
        """Check a document against the envelope, its kind's model and rules; write nothing."""
        prepared = self.pipeline.prepare(document)
        return self.pipeline.parse(prepared.body or {})

    def _one(
        self,
        item: PreparedWrite,
        actor: str,
        idempotency_key: str | None,
        payload: Any,
        given: str | None = None,
    ) -> WriteResult:
        if idempotency_key is None and self.settings.group_commit:
            item.actor = actor
            return self._committer.submit(item)
        idem = (
            Idempotency(idempotency_key, request_hash([item.op, given or str(item.ref), payload]))
            if idempotency_key
            else None
        )
        result = self.pipeline.commit([item], actor=actor, atomic=True, idempotency=idem)[0]
        if isinstance(result, ItemError):  # pragma: no cover - atomic commits raise instead
            raise result.error
        return result

    def _entry(self, result: WriteResult) -> Entry:
        return result.entry if result.entry is not None else self.store.get(result.ref)

    def prepare_create(
        self, document: Mapping[str, Any] | Document, *, actor: str = DEFAULT_ACTOR
    ) -> PreparedWrite:
        """Validate a document to create (raises its refusal); commit it with
        :meth:`commit_later`."""
        item = self.pipeline.prepare(document, "create")
        item.actor = actor
        return item

    def commit_later(self, item: PreparedWrite) -> asyncio.Future[WriteResult] | None:
        """From a running event loop: queue a prepared write for the next group commit
        and return an asyncio future of its result (or refusal); None when group commit
        is off. The loop is woken once per commit for all the writes it is waiting for."""
        if not self.settings.group_commit:
            return None
        return self._committer.enqueue_here(item)

    def register(
        self,
        document: Mapping[str, Any] | Document,
        *,
        actor: str = DEFAULT_ACTOR,
        idempotency_key: str | None = None,
    ) -> Entry:
        """Create a new entry; refused with AlreadyExists if that version exists."""
        item = self.pipeline.prepare(document, "create")
        return self._entry(self._one(item, actor, idempotency_key, item.body))

    def update(
        self,
        document: Mapping[str, Any] | Document,
        *,
        expected_revision: int | None = None,
        actor: str = DEFAULT_ACTOR,
        idempotency_key: str | None = None,
    ) -> Entry:
        """Replace an existing version; with ``expected_revision`` a stale write is a Conflict."""
        item = self.pipeline.prepare(document, "update", expected_revision=expected_revision)
        return self._entry(self._one(item, actor, idempotency_key, item.body))

    def apply(
        self,
        document: Mapping[str, Any] | Document,
        *,
        expected_revision: int | None = None,
        actor: str = DEFAULT_ACTOR,
        idempotency_key: str | None = None,
    ) -> WriteResult:
        """Create or update (no write when nothing changed)."""
        item = self.pipeline.prepare(document, "apply", expected_revision=expected_revision)
        return self._one(item, actor, idempotency_key, item.body)

    def unregister(
        self,
        ref: RefLike,
        *,
        expected_revision: int | None = None,
        actor: str = DEFAULT_ACTOR,
        idempotency_key: str | None = None,
    ) -> Entry:
        """Remove one version, the relations it declared and the aliases on it."""
        r = self.ref(ref)
        try:
            exact = self.store.get(r).ref  # resolves an alias or "latest" to the version
        except NotFound:
            if idempotency_key is None or not r.version:
                raise
            exact = r  # perhaps deleted by this very key: the store replays or says not found
        item = self.pipeline.prepare_delete(exact, expected_revision=expected_revision)
        # The key covers the reference as the caller wrote it, so a retried "delete the
        # latest version" replays the first answer instead of deleting the next version.
        result = self._one(item, actor, idempotency_key, None, given=str(r))
        if result.entry is None:
            raise NotFound(f"{exact} not found")
        return result.entry

    def apply_many(
        self,
        documents: Iterable[Mapping[str, Any] | Document],
        *,
        actor: str = DEFAULT_ACTOR,
        atomic: bool = True,
        batch_size: int | None = None,
        progress: Progress | None = None,
    ) -> ApplyReport:
        """Apply many documents, one transaction per batch.

        ``atomic=True`` (files, ``apply -f``): every document is validated first; if any
        is refused nothing is written and :class:`BatchRefused` lists every problem by
        document index. ``atomic=False`` (streams, bulk API): each document stands alone:
        refusals are reported per item and the others are written.
        """
        size = batch_size or self.settings.batch_size
        with closing(prepare_batches(self, documents, size, share=atomic)) as batches:
            return self._apply_batches(batches, size, actor, atomic, progress)

    def _apply_batches(
        self,
        batches: Iterator[Batch],
        size: int,
        actor: str,
        atomic: bool,
        progress: Progress | None,
    ) -> ApplyReport:
        report = ApplyReport()
        if atomic:
            prepared: list[PreparedWrite] = []
            for start, docs, answers in batches:
                for pos, (doc, ans) in enumerate(zip(docs, answers, strict=True)):
                    if isinstance(ans, HyperRegistryError):
                        report.errors.append(ItemError(start + pos, ans, _ref_hint(doc)))
                    else:
                        prepared.append(ans)
            if report.errors:
                raise BatchRefused(report.errors)
            for start in range(0, len(prepared), size):
                chunk = prepared[start : start + size]
                with paused_gc():
                    for res in self.pipeline.commit(chunk, actor=actor, atomic=True):
                        assert isinstance(res, WriteResult)
                        res.index += start
                        res.entry = None  # hooks have run; a bulk report keeps only the outcome
                        report.results.append(res)
                if progress:
                    progress(len(chunk))
            return report

        for start, docs, answers in batches:
            batch: list[PreparedWrite] = []
            positions: list[int] = []
            for pos, (doc, ans) in enumerate(zip(docs, answers, strict=True)):
                if isinstance(ans, HyperRegistryError):
                    report.errors.append(ItemError(start + pos, ans, _ref_hint(doc)))
                    if progress:
                        progress(1)
                else:
                    batch.append(ans)
                    positions.append(start + pos)
            if not batch:
                continue
            with paused_gc():
                for res in self.pipeline.commit(batch, actor=actor, atomic=False):
                    res.index = positions[res.index]
                    if isinstance(res, ItemError):
                        report.errors.append(res)
                    else:
                        res.entry = None  # hooks have run; a bulk report keeps only the outcome
                        report.results.append(res)
            if progress:
                progress(len(batch))
        report.errors.sort(key=lambda e: e.index)
        return report

    def set_alias(self, ref: RefLike, alias: str, *, actor: str = DEFAULT_ACTOR) -> Entry:
        """Point ``alias`` at the version ``ref`` names; the move is recorded in the change log."""
        from hyper_registry.core.ref import check_name

        check_name(alias, "alias")
        r = self.ref(ref)
        self.store.set_alias(r, alias, actor=actor)
        return self.store.get(self.store.get(r).ref)

    def set_status(self, ref: RefLike, status: dict[str, Any], *, actor: str = "registry") -> Entry:
        """Replace an entry's status (the registry's own field; clients cannot write it)."""
        return self.store.set_status(self.ref(ref), status, actor=actor)

    # -- reads -------------------------------------------------------------------------

    def ref(self, ref: RefLike) -> Ref:
        """Parse a reference and check that its kind exists."""
        r = as_ref(ref)
        self.kinds.get(r.kind)
        return r

    def get(self, ref: RefLike) -> Entry:
        return self.store.get(self.ref(ref))

    def versions(self, ref: RefLike) -> list[Entry]:
        return self.store.versions(self.ref(ref))

    def aliases(self, ref: RefLike) -> dict[str, str]:
        return self.store.aliases(self.ref(ref))

    def query(self, query: Query | None = None, **filters: Any) -> Page:
        q = query or Query(**filters)
        if q.kinds:
            for k in q.kinds:
                self.kinds.get(k)
        return self.store.query(q)

    def count(self, query: Query | None = None, **filters: Any) -> int:
        return self.store.count(query or Query(**filters))

    def changes(
        self,
        since: int = 0,
        limit: int = 1000,
        namespaces: Sequence[str] | None = None,
        *,
        audit: bool = True,
    ) -> list[ChangeRecord]:
        """The change log after ``since``; ``audit=False`` leaves out token management rows."""
        return self.store.changes(since, limit, namespaces, audit=audit)

    def relations(self, ref: RefLike) -> list[RelationView]:
        """Relations in both directions, each named as read from this entry."""
        return self.store.relations_of(self.ref(ref))

    def _traverse(
        self,
        ref: RefLike,
        mode: TraversalMode,
        depth: int | None,
        kinds: Sequence[str] | None,
        namespaces: Sequence[str] | None,
    ) -> list[GraphHit]:
        d = self.settings.default_graph_depth if depth is None else depth
        if not 1 <= d <= self.settings.max_graph_depth:
            raise Invalid.at(
                ("depth",), f"depth must be between 1 and {self.settings.max_graph_depth}, got {d}"
            )
        for k in kinds or ():
            self.kinds.get(k)
        return self.store.traverse(self.ref(ref), mode, depth=d, kinds=kinds, namespaces=namespaces)

    def dependencies(
        self,
        ref: RefLike,
        *,
        depth: int | None = None,
        kinds: Sequence[str] | None = None,
        namespaces: Sequence[str] | None = None,
    ) -> list[GraphHit]:
        """What ``ref`` needs, transitively (relations followed in their declared direction)."""
        return self._traverse(ref, "dependencies", depth, kinds, namespaces)

    def dependents(
        self,
        ref: RefLike,
        *,
        depth: int | None = None,
        kinds: Sequence[str] | None = None,
        namespaces: Sequence[str] | None = None,
    ) -> list[GraphHit]:
        """What needs ``ref``, transitively (relations followed backwards)."""
        return self._traverse(ref, "dependents", depth, kinds, namespaces)

    def impact(
        self,
        ref: RefLike,
        *,
        depth: int | None = None,
        kinds: Sequence[str] | None = None,
        namespaces: Sequence[str] | None = None,
    ) -> list[GraphHit]:
        """Everything a problem in ``ref`` reaches, each with the path it travels."""
        return self._traverse(ref, "impact", depth, kinds, namespaces)

    def ping(self) -> None:
        health = self.store.health()
        if not health.reachable:
            raise Unavailable(f"the store is unreachable: {health.detail}")


def _ref_hint(doc: Any) -> str | None:
    try:
        if isinstance(doc, Document):
            return str(doc.ref)
        md = doc.get("metadata") or {}
        return f"{doc.get('kind')}:{md.get('namespace')}/{md.get('name')}@{md.get('version')}"
    except (AttributeError, TypeError):
        return None
