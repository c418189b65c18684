"""Plugin rules beyond the spec model."""

from __future__ import annotations

from collections.abc import Iterator

from hyper_registry.core.envelope import Document
from hyper_registry.core.errors import Problem
from hyper_registry.core.kind import RuleContext
from hyper_registry.kinds.common import duplicates
from hyper_registry.kinds.plugin.spec import PluginSpec


def no_repeats(spec: PluginSpec, doc: Document, ctx: RuleContext) -> Iterator[Problem]:
    """A permission or an export is listed once."""
    yield from duplicates(spec.permissions, ("spec", "permissions"), "permission")
    yield from duplicates(spec.exports, ("spec", "exports"), "export")
