"""The security domain's operations, as methods of the index (thin: the work is elsewhere)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy as sa

from hyper_registry.kinds.security import tables as t

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from hyper_registry.core.registry import Registry
    from hyper_registry.kinds.security.index import SecurityIndex


class OperationsMixin:
    """Imports, triage, summaries, findings and impact (see the modules each one names)."""

    registry: Registry

    def tx(self) -> AbstractContextManager[sa.Connection]:
        raise NotImplementedError

    def _me(self) -> SecurityIndex:
        return cast("SecurityIndex", self)

    def import_sbom(self, data: bytes, **kwargs: Any) -> dict[str, Any]:
        """Parse, store and match an SBOM (see ``importing.import_sbom``)."""
        from hyper_registry.kinds.security.importing import import_sbom

        return import_sbom(self._me(), data, **kwargs)

    def import_advisories(self, records: Iterable[Any], **kwargs: Any) -> dict[str, Any]:
        """Store and match OSV advisories (see ``importing.import_advisories``)."""
        from hyper_registry.kinds.security.importing import import_advisories

        return import_advisories(self._me(), records, **kwargs)

    def import_openvex(self, data: bytes, *, actor: str = "local") -> dict[str, Any]:
        from hyper_registry.kinds.security.importing import import_openvex

        return import_openvex(self._me(), data, actor=actor)

    def triage(
        self,
        vulnerability: str,
        *,
        status: str,
        artifact: str | None = None,
        component: str | None = None,
        justification: str | None = None,
        statement: str | None = None,
        actor: str = "local",
        namespaces: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        """Record a triage statement on an artifact or a component; returns the findings it
        touched with their new state."""
        from hyper_registry.core.errors import Invalid, NotFound
        from hyper_registry.kinds.security.parsed import VexStatement
        from hyper_registry.kinds.security.queries import advisories_for
        from hyper_registry.kinds.security.triage import add_statements, check_statement

        check_statement(status, justification, statement)
        if (artifact is None) == (component is None):
            raise Invalid.at(("artifact",), "name either an artifact or a component (purl)")
        if not advisories_for(self._me(), vulnerability):
            raise NotFound(f"no stored advisory is known as {vulnerability}")
        target = component
        if artifact is not None:
            entry = self.registry.get(artifact)
            if namespaces is not None and entry.metadata.namespace not in namespaces:
                raise NotFound(f"{artifact} not found")
            target = artifact
        assert target is not None
        vex = VexStatement(
            vulnerability=vulnerability,
            status=status,
            justification=justification,
            statement=statement,
            products=[target],
        )
        with self.tx() as conn:
            touched = add_statements(self._me(), conn, [vex], actor=actor, source="triage")
            rows = conn.execute(
                sa.select(t.findings.c.id, t.findings.c.status, t.sboms.c.namespace)
                .select_from(t.findings.join(t.sboms, t.sboms.c.id == t.findings.c.sbom_id))
                .where(t.findings.c.id.in_(touched or [-1]))
            ).all()
        return {
            "vulnerability": vulnerability,
            "target": target,
            "status": status,
            "findings": [
                {"id": int(r.id), "status": r.status}
                for r in rows
                if r.status == status and (namespaces is None or r.namespace in namespaces)
            ],
        }

    def summary(self, ref: str, namespaces: Sequence[str] | None = None) -> dict[str, int]:
        from hyper_registry.kinds.security.queries import summary

        return summary(self._me(), ref, namespaces)

    def portfolio(self, namespaces: Sequence[str] | None = None) -> dict[str, Any]:
        from hyper_registry.kinds.security.queries import portfolio

        return portfolio(self._me(), namespaces)

    def findings(
        self, ref: str, namespaces: Sequence[str] | None = None, *, include_suppressed: bool = True
    ) -> list[dict[str, Any]]:
        from hyper_registry.kinds.security.queries import findings

        return findings(self._me(), ref, namespaces, include_suppressed=include_suppressed)

    def finding(self, finding_id: int, namespaces: Sequence[str] | None = None) -> dict[str, Any]:
        from hyper_registry.kinds.security.queries import finding

        return finding(self._me(), finding_id, namespaces)

    def sbom_report(self, ref: str) -> dict[str, Any]:
        from hyper_registry.kinds.security.queries import sbom_report

        return sbom_report(self._me(), ref)

    def impact(
        self,
        vulnerability: str,
        *,
        namespaces: Sequence[str] | None = None,
        depth: int | None = None,
    ) -> dict[str, Any]:
        from hyper_registry.kinds.security.impact import vulnerability_impact

        return vulnerability_impact(self._me(), vulnerability, namespaces=namespaces, depth=depth)
