"""The ``infra`` kind: Terraform, Helm, CloudFormation and Ansible templates.

Templates are really parsed at registration (``rules.template_parses``: a syntax error
refuses the document); the parse and a cost summary go into the entry's status with the
write (``status_of``), and its resources into the ``infra_resources`` table in the same
transaction (``service.InfraService``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hyper_registry.core.envelope import Document, Entry
from hyper_registry.core.kind import KindSpec, RuleContext
from hyper_registry.kinds.infra import resources as _resources  # noqa: F401 - declares the table
from hyper_registry.kinds.infra.rules import no_repeats, template_parses
from hyper_registry.kinds.infra.spec import TEMPLATE_TYPES, InfraSpec

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from hyper_registry.core.registry import Registry


def infra_service(registry: Registry) -> Any:
    """The registry's one InfraService."""
    from hyper_registry.kinds.infra.service import InfraService

    return registry.extension(InfraService)


def _written(registry: Registry, conn: Connection, entries: Sequence[Entry]) -> None:
    infra_service(registry).on_written(conn, entries)


def _status(spec: InfraSpec, doc: Document, ctx: RuleContext) -> dict[str, Any]:
    from hyper_registry.kinds.infra.service import STATUS_KEY, derived_status

    return {STATUS_KEY: derived_status(doc.spec)}


def _unregistered(registry: Registry, entry: Entry) -> None:
    infra_service(registry).on_unregistered(entry)


def _estimate_cost(registry: Registry, ref: Any, **kwargs: Any) -> dict[str, Any]:
    result: dict[str, Any] = infra_service(registry).estimate_cost(ref, **kwargs)
    return result


def _diff(registry: Registry, old: Any, new: Any, **kwargs: Any) -> dict[str, Any]:
    result: dict[str, Any] = infra_service(registry).diff(old, new, **kwargs)
    return result


def _find(registry: Registry, **kwargs: Any) -> list[Entry]:
    result: list[Entry] = infra_service(registry).find(**kwargs)
    return result


def _deploys(registry: Registry, ref: Any, **kwargs: Any) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = infra_service(registry).deploys(ref, **kwargs)
    return result


KIND = KindSpec(
    name="infra",
    spec_model=InfraSpec,
    description="An infrastructure-as-code template (Terraform, Helm, CloudFormation, Ansible).",
    versioning="semver",
    rules=(no_repeats, template_parses),
    operations={
        "estimate_cost": _estimate_cost,
        "diff": _diff,
        "find": _find,
        "deploys": _deploys,
    },
    status_of=_status,
    in_transaction=_written,
    on_unregistered=_unregistered,
)

__all__ = ["KIND", "TEMPLATE_TYPES", "InfraSpec"]
