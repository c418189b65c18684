"""The bridge between the index and ``versions``: candidate keys and one match decision.

Matching is two steps: an indexed SQL pre-filter on ``(ecosystem, package)`` (the keys
``versions.component_package`` / ``versions.affected_package`` give) finds the advisories
that name a component's package at all, then ``versions.match`` decides with the
ecosystem's own version rules. Nothing here compares versions.
"""

from __future__ import annotations

from dataclasses import dataclass

from hyper_registry.kinds.security import versions
from hyper_registry.kinds.security.parsed import Affected, Component

KEY_MAX = 1024


def component_key(component: Component) -> tuple[str, str] | None:
    """(ecosystem, package) of a component, or None when it cannot be matched."""
    found = versions.component_package(component)
    if found is None or len(found[1]) > KEY_MAX:
        return None
    return found


def affected_key(item: Affected) -> tuple[str, str] | None:
    """(ecosystem, package) an advisory's affected entry names, or None when it names none."""
    found = versions.affected_package(item)
    if found is None or len(found[1]) > KEY_MAX:
        return None
    return found


@dataclass(frozen=True)
class Hit:
    """What ``versions.match`` said: the range that matched and the first fixed version."""

    matched_range: str | None
    fixed_version: str | None


def match(component: Component, item: Affected) -> Hit | None:
    """Whether ``component`` is affected by ``item``, with the ecosystem's version rules."""
    found = versions.match(component, item)
    if found is None:
        return None
    return Hit(_clip(found.range, 1024), _clip(found.fixed, 256))


def _clip(value: str | None, size: int) -> str | None:
    return value if value is None or len(value) <= size else value[: size - 1] + "…"
