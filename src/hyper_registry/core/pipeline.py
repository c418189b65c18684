"""The one write pipeline: validate -> one transaction -> after-commit hooks.

Every write (a single document, a bulk file, an API call, a stream message) is
prepared here and committed through ``WritePipeline.commit``; there is no other
path to the store.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import ValidationError

from hyper_registry.core.envelope import Document, Entry, canonical_json, content_hash
from hyper_registry.core.errors import HyperRegistryError, Invalid, ItemError, Problem, TooLarge
from hyper_registry.core.kind import RuleContext
from hyper_registry.core.kinds import KindCatalog
from hyper_registry.core.ref import Ref, name_problem
from hyper_registry.core.settings import Settings
from hyper_registry.core.validation import problems_from
from hyper_registry.core.versioning import semver_problem
from hyper_registry.store.base import (
    Idempotency,
    PreparedWrite,
    RelationRow,
    Store,
    TxHook,
    WriteOp,
    WriteResult,
)

if TYPE_CHECKING:
    from hyper_registry.core.registry import Registry

log = logging.getLogger(__name__)

Listener = Callable[[Sequence[WriteResult]], None]
T = TypeVar("T")


class WritePipeline:
    def __init__(self, kinds: KindCatalog, store: Store, settings: Settings) -> None:
        self.kinds = kinds
        self.store = store
        self.settings = settings
        self._listeners: list[Listener] = []
        self._registry: Registry | None = None

    def bind(self, registry: Registry) -> None:
        self._registry = registry

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener`` after every commit with the results that changed something."""
        self._listeners.append(listener)

    # -- validate ----------------------------------------------------------------------

    def parse(self, raw: Mapping[str, Any] | Document) -> Document:
        if isinstance(raw, Document):
            return raw
        if not isinstance(raw, Mapping):
            raise Invalid.at((), "a document must be a mapping (an object)", "not-an-object")
        try:
            return Document.model_validate(raw)
        except ValidationError as exc:
            raise Invalid("the document is not valid", problems=problems_from(exc)) from None

    def prepare(
        self,
        raw: Mapping[str, Any] | Document,
        op: WriteOp = "apply",
        *,
        expected_revision: int | None = None,
        batch_rules: bool = True,
    ) -> PreparedWrite:
        """Validate one document into a write. ``batch_rules=False``: the caller runs the
        kinds' batch rules itself (``check_batch``) over many prepared writes at once."""
        doc = self.parse(raw)
        kind = self.kinds.get(doc.kind)
        problems: list[Problem] = []
        if kind.versioning == "semver":
            why = semver_problem(doc.metadata.version)
            if why:
                problems.append(Problem(("metadata", "version"), why, "bad-version"))
        try:
            spec = kind.spec_model.model_validate(doc.spec)
        except ValidationError as exc:
            raise Invalid(
                "the document is not valid", problems=[*problems, *problems_from(exc, ("spec",))]
            ) from None
        ctx = RuleContext(
            previous=self.store.latest(doc.ref) if kind.needs_previous else None,
            registry=self._registry,
            settings=self.settings,
        )
        for rule in kind.rules:
            problems.extend(rule(spec, doc, ctx))
        aliases = kind.aliases_of(spec)
        for i, alias in enumerate(aliases):
            why = name_problem(alias, "alias")
            if why:
                problems.append(Problem(("spec", "aliases", i), why, "bad-name"))
        if problems:
            raise Invalid("the document is not valid", problems=problems)

        rels: list[RelationRow] = []
        seen: set[tuple[str, Ref]] = set()
        for r in doc.relations:
            if (r.type, r.target) not in seen:
                seen.add((r.type, r.target))
                rels.append(RelationRow(r.type, r.target, "declared"))
        for implied in kind.relations_of(spec):
            if (implied.type, implied.target) not in seen:
                seen.add((implied.type, implied.target))
                rels.append(RelationRow(implied.type, implied.target, "spec"))

        body = doc.canonical()
        body_json = canonical_json(body)
        if len(body_json) > self.settings.max_document_bytes:
            raise TooLarge(
                f"the document is {len(body_json)} bytes; the limit is "
                f"{self.settings.max_document_bytes}"
            )
        item = PreparedWrite(
            op=op,
            ref=doc.ref,
            body=body,
            body_json=body_json.decode(),
            content_hash=content_hash(body_json),
            versioning=kind.versioning,
            owner=doc.metadata.owner,
            title=doc.metadata.title,
            relations=rels,
            aliases=aliases,
            expected_revision=expected_revision,
            status=dict(kind.status_of(spec, doc, ctx)) if kind.status_of else None,
        )
        if batch_rules and kind.batch_rules:
            checked = self.check_batch([item])[0]
            if isinstance(checked, HyperRegistryError):
                raise checked
        return item

    def check_batch(self, items: Sequence[PreparedWrite | T]) -> list[PreparedWrite | T | Invalid]:
        """Run the kinds' batch rules (rules that read the store) over prepared writes.

        Items that are not writes (refusals already) pass through; a write a rule refuses
        becomes an :class:`Invalid` naming every problem.
        """
        by_kind: dict[str, list[int]] = {}
        for i, item in enumerate(items):
            if (
                isinstance(item, PreparedWrite)
                and item.op != "delete"
                and self.kinds.get(item.ref.kind).batch_rules
            ):
                by_kind.setdefault(item.ref.kind, []).append(i)
        out: list[PreparedWrite | T | Invalid] = list(items)
        if not by_kind or self._registry is None:
            return out
        for kind_name, positions in by_kind.items():
            group = [items[i] for i in positions]
            problems: dict[int, list[Problem]] = {}
            for rule in self.kinds.get(kind_name).batch_rules:
                for j, found in rule(self._registry, group).items():  # type: ignore[arg-type]
                    problems.setdefault(j, []).extend(found)
            for j, found in problems.items():
                if found:
                    out[positions[j]] = Invalid("the document is not valid", problems=found)
        return out

    def prepare_delete(self, ref: Ref, *, expected_revision: int | None = None) -> PreparedWrite:
        self.kinds.get(ref.kind)
        if not ref.version:
            raise Invalid.at(("ref",), f"{ref}: name the version to delete", "version-required")
        return PreparedWrite(op="delete", ref=ref, expected_revision=expected_revision)

    # -- commit ------------------------------------------------------------------------

    def commit(
        self,
        items: Sequence[PreparedWrite],
        *,
        actor: str,
        atomic: bool = True,
        idempotency: Idempotency | None = None,
        within: TxHook | None = None,
    ) -> list[WriteResult | ItemError]:
        results = self.write(
            items, actor=actor, atomic=atomic, idempotency=idempotency, within=within
        )
        self.after_commit(results)
        return results

    def write(
        self,
        items: Sequence[PreparedWrite],
        *,
        actor: str,
        atomic: bool = True,
        idempotency: Idempotency | None = None,
        within: TxHook | None = None,
    ) -> list[WriteResult | ItemError]:
        """The transaction of :meth:`commit` (the kinds' ``in_transaction`` hooks
        included), without the after-commit hooks: a writer process runs this part."""
        return self.store.write(
            items,
            actor=actor,
            atomic=atomic,
            idempotency=idempotency,
            within=self._with_kind_hooks(items, within),
        )

    def after_commit(self, results: Sequence[WriteResult | ItemError]) -> None:
        """The kinds' after-commit hooks and the change listeners, for committed results."""
        self._after_commit([r for r in results if isinstance(r, WriteResult)])

    def _with_kind_hooks(
        self, items: Sequence[PreparedWrite], within: TxHook | None
    ) -> TxHook | None:
        """``within`` preceded by the ``in_transaction`` hooks of the kinds written."""
        registry = self._registry
        kinds = {it.ref.kind for it in items if it.op != "delete"}
        hooks = {
            k: spec.in_transaction
            for k in kinds
            if (spec := self.kinds.get(k)).in_transaction is not None
        }
        if registry is None or not hooks:
            return within

        def run(conn: Any, results: Sequence[WriteResult | ItemError]) -> None:
            written: dict[str, list[Entry]] = {}
            for res in results:
                if (
                    isinstance(res, WriteResult)
                    and res.outcome in ("created", "updated")
                    and res.ref.kind in hooks
                    and res.entry is not None
                ):
                    written.setdefault(res.ref.kind, []).append(res.entry)
            for kind_name, entries in written.items():
                hooks[kind_name](registry, conn, entries)
            if within is not None:
                within(conn, results)

        return run

    def _after_commit(self, results: Sequence[WriteResult]) -> None:
        changed = [r for r in results if r.outcome != "unchanged" and r.has_entry]
        if not changed:
            return
        registry = self._registry
        if registry is not None:
            for res in changed:
                # Entries are built only for kinds that react (see WriteResult.entry).
                kind = self.kinds.get(res.ref.kind)
                hook = kind.on_unregistered if res.outcome == "deleted" else kind.on_registered
                if hook is not None and res.entry is not None:
                    try:
                        hook(registry, res.entry)
                    except Exception:  # a hook's failure must not undo or hide a commit
                        log.exception("after-commit hook of kind %s failed", kind.name)
        for listener in self._listeners:
            try:
                listener(changed)
            except Exception:
                log.exception("change listener failed")


def request_hash(payload: Any) -> str:
    """A stable hash of a request body, for idempotency keys."""
    return content_hash(payload if isinstance(payload, bytes) else canonical_json(payload))
