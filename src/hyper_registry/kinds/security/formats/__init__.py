"""The security format layer: content-detected SBOM, advisory and VEX parsers.

Pure functions from bytes to the format-neutral models of ``kinds.security.parsed``; no I/O
besides reading the paths given to :func:`iter_advisories`, no network, no registry.
"""

from __future__ import annotations

from hyper_registry.kinds.security.formats.advisories import AdvisoryError, Limits, iter_advisories
from hyper_registry.kinds.security.formats.cyclonedx import split_bom_link
from hyper_registry.kinds.security.formats.detect import Detected, classify_json, detect
from hyper_registry.kinds.security.formats.openvex import parse_openvex
from hyper_registry.kinds.security.formats.osv import parse_advisory
from hyper_registry.kinds.security.formats.sbom import parse_sbom

__all__ = [
    "AdvisoryError",
    "Detected",
    "Limits",
    "classify_json",
    "detect",
    "iter_advisories",
    "parse_advisory",
    "parse_openvex",
    "parse_sbom",
    "split_bom_link",
]
