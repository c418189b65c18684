"""The catalogue of kinds a registry knows."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from hyper_registry.core.errors import Invalid
from hyper_registry.core.kind import KindSpec


class KindCatalog:
    def __init__(self, kinds: Iterable[KindSpec]) -> None:
        self._kinds: dict[str, KindSpec] = {}
        for kind in kinds:
            if kind.name in self._kinds:
                raise ValueError(f"kind {kind.name!r} registered twice")
            self._kinds[kind.name] = kind

    def __iter__(self) -> Iterator[KindSpec]:
        return iter(self._kinds.values())

    def __contains__(self, name: object) -> bool:
        return name in self._kinds

    @property
    def names(self) -> list[str]:
        return list(self._kinds)

    def get(self, name: str) -> KindSpec:
        try:
            return self._kinds[name]
        except KeyError:
            known = ", ".join(self._kinds)
            raise Invalid.at(
                ("kind",), f"unknown kind {name!r}; known kinds: {known}", "unknown-kind"
            ) from None
