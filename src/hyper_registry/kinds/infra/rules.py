"""Infra rules beyond the spec model."""

from __future__ import annotations

from collections.abc import Iterator

from hyper_registry.core.envelope import Document
from hyper_registry.core.errors import Problem
from hyper_registry.core.kind import RuleContext
from hyper_registry.kinds.common import duplicates
from hyper_registry.kinds.infra.spec import InfraSpec


def no_repeats(spec: InfraSpec, doc: Document, ctx: RuleContext) -> Iterator[Problem]:
    """A provider is listed once."""
    yield from duplicates(spec.providers, ("spec", "providers"), "provider")
