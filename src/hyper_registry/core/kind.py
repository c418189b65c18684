"""Kinds are data: a ``KindSpec`` says everything the rest of the system knows of a kind.

Storage, the API, the CLI and the graph are generic over kinds. A kind brings its
Spec model, the rules a document must pass beyond the model, the relations its
spec implies, the aliases a document claims, its own operations and its reactions
to changes. Nothing outside a kind's package knows the kind's fields.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from hyper_registry.core.envelope import Document, Entry
from hyper_registry.core.errors import Problem
from hyper_registry.core.ref import Ref
from hyper_registry.core.versioning import Versioning

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from hyper_registry.core.registry import Registry
    from hyper_registry.core.settings import Settings
    from hyper_registry.store.base import PreparedWrite


@dataclass(frozen=True)
class ImpliedRelation:
    """A relation that a spec field states (``model.spec.parent`` is ``derivedFrom``)."""

    type: str
    target: Ref
    loc: tuple[str | int, ...] = ()


@dataclass(frozen=True)
class RuleContext:
    """What a rule may look at besides the document.

    ``previous``: the latest stored version of the same name (kinds with
    ``needs_previous``). ``registry``: set by the write pipeline, for rules that must look
    further and only sometimes (every earlier version for transitive schema
    compatibility, the consumers a refused change would break); rules only read through it.
    """

    previous: Entry | None = None
    registry: Registry | None = None
    settings: Settings | None = None


Rule = Callable[[Any, Document, RuleContext], Iterable[Problem]]
"""A rule gets the validated Spec model, the document and the context; it yields problems."""

StatusOf = Callable[[Any, Document, RuleContext], Mapping[str, Any]]
"""Status keys derived from a document alone (a module's inventory, a template's parse).

Computed while the document is prepared (in a bulk worker process too) and stored with
the entry's row in the same statement: an update replaces these keys and keeps the
others (health, findings)."""

BatchRule = Callable[["Registry", "Sequence[PreparedWrite]"], Mapping[int, list[Problem]]]
"""A rule that reads the store, run over a batch of prepared writes of one kind in the
committing process, just before the commit: one query for the batch instead of one per
document, and it sees the batch's own earlier documents. It answers problems by position
in the sequence it was given; it may attach change-log ``records`` to the items."""


@dataclass(frozen=True)
class KindSpec:
    name: str
    spec_model: type[BaseModel]
    description: str
    versioning: Versioning = "semver"
    rules: tuple[Rule, ...] = ()
    implied_relations: Callable[[Any], Iterable[ImpliedRelation]] | None = None
    aliases: Callable[[Any], Iterable[str]] | None = None
    needs_previous: bool = False
    reads_registry: bool | Callable[[Mapping[str, Any]], bool] = False
    """Rules read through ``RuleContext.registry`` (an uploaded blob...): documents of the
    kind are prepared in the registry's own process, never in a bulk worker. A predicate
    on the raw document says which documents need it (a plugin whose module is an
    uploaded digest); the others are prepared in the worker."""
    status_of: StatusOf | None = None
    batch_rules: tuple[BatchRule, ...] = ()
    operations: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    in_transaction: Callable[[Registry, Connection, Sequence[Entry]], None] | None = None
    """Derived data of the entries of this kind a commit created or updated (rows of the
    kind's own tables), written on the write's connection inside its transaction: it
    commits or rolls back with the entries, and a bulk write pays one call per batch, not
    one commit per entry. An error refuses the write. (Status derived from the document
    alone belongs in ``status_of``.)"""
    on_registered: Callable[[Registry, Entry], None] | None = None
    on_unregistered: Callable[[Registry, Entry], None] | None = None

    def prepared_in_registry(self, doc: Any) -> bool:
        """Whether the raw document ``doc`` must be prepared where the registry is."""
        if self.needs_previous or self.reads_registry is True:
            return True
        if callable(self.reads_registry):
            return not isinstance(doc, Mapping) or self.reads_registry(doc)
        return False

    def relations_of(self, spec: Any) -> list[ImpliedRelation]:
        return list(self.implied_relations(spec)) if self.implied_relations else []

    def aliases_of(self, spec: Any) -> list[str]:
        return list(self.aliases(spec)) if self.aliases else []
