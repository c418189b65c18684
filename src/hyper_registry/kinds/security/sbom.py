"""Security records of type ``sbom``: a bill of materials describing an artifact."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from hyper_registry.core.envelope import Strict
from hyper_registry.core.ref import Ref
from hyper_registry.kinds.common import choice

SbomFormat = Literal["cyclonedx", "spdx"]
SPEC_VERSIONS: dict[str, tuple[str, ...]] = {
    "cyclonedx": ("1.2", "1.3", "1.4", "1.5", "1.6"),
    "spdx": ("2.2", "2.3"),
}
"""The versions of each format the registry reads."""


class SbomSpec(Strict):
    type: Literal["sbom"]
    format: Annotated[SbomFormat, choice("format", SbomFormat)]
    specVersion: Annotated[str, Field(min_length=1, max_length=16)] | None = None
    linkedArtifact: Ref | None = Field(
        default=None,
        description="the artifact the SBOM describes; absent: the SBOM is stored as unlinked",
    )
    document: dict[str, Any] | None = Field(default=None, description="the SBOM itself (JSON)")
    digest: Annotated[str, Field(pattern=r"^sha256:[0-9a-f]{64}$")] | None = Field(
        default=None, description="sha256 of the imported document (kept beside the entry)"
    )
    described: dict[str, str] | None = Field(
        default=None, description="name, version and purl of the component the SBOM describes"
    )
    summary: dict[str, int | str] | None = Field(
        default=None, description="counts of the imported document (components, dependencies, ...)"
    )

    def effective_spec_version(self) -> str | None:
        """``specVersion``, or else the version the document states."""
        if self.specVersion is not None:
            return self.specVersion
        if self.document is None:
            return None
        if self.format == "cyclonedx":
            found = self.document.get("specVersion")
        else:
            found = self.document.get("spdxVersion")
            found = found.removeprefix("SPDX-") if isinstance(found, str) else None
        return found if isinstance(found, str) else None
