"""Which format a document is, from its content only (never the file name)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal[
    "cyclonedx-json",
    "cyclonedx-xml",
    "spdx-json",
    "spdx-tag-value",
    "openvex",
    "osv",
    "json",
    "xml",
    "unknown",
]
"""``json``: a JSON document, classified after decoding (:func:`classify_json`); ``xml``: XML
whose root decides (only CycloneDX ``<bom>`` is read)."""

_CDX_NS = re.compile(
    r"""xmlns(?::\w+)?\s*=\s*["']http://cyclonedx\.org/schema/bom/(\d+\.\d+)["']"""
)
_SPDX_TV = re.compile(r"^\s*SPDXVersion\s*:", re.MULTILINE)
_FIRST = re.compile(r"[^\s\ufeff]")
PREFIX = 65536
"""How much of the document detection looks at."""


@dataclass(frozen=True)
class Detected:
    kind: Kind
    reason: str


def _prefix(data: bytes) -> str:
    head = data[:PREFIX]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head.decode("utf-16", errors="replace")
    return head.decode("utf-8", errors="replace")


def detect(data: bytes) -> Detected:
    """A cheap look at the start of a document (the first 64 KiB), never at its name."""
    text = _prefix(data)
    first = _FIRST.search(text)
    char = first.group(0) if first else ""
    if char == "<":
        if _CDX_NS.search(text):
            return Detected("cyclonedx-xml", "XML with a CycloneDX namespace")
        if "spdx.org/rdf" in text:
            return Detected("unknown", "SPDX RDF/XML is not supported (use SPDX JSON or tag-value)")
        return Detected("xml", "XML; its root element decides")
    if char in ("{", "["):
        return Detected("json", "JSON; its top-level keys decide")
    if _SPDX_TV.search(text):
        return Detected("spdx-tag-value", "an 'SPDXVersion:' tag")
    return Detected("unknown", "neither JSON, XML nor SPDX tag-value")


def classify_json(doc: object) -> Detected:
    if not isinstance(doc, dict):
        return Detected("unknown", "the JSON document is not an object")
    if doc.get("bomFormat") == "CycloneDX" or (
        isinstance(doc.get("$schema"), str) and "cyclonedx.org" in doc["$schema"]
    ):
        return Detected("cyclonedx-json", "bomFormat CycloneDX")
    if "spdxVersion" in doc or doc.get("SPDXID") == "SPDXRef-DOCUMENT":
        return Detected("spdx-json", "spdxVersion")
    context = doc.get("@context")
    if isinstance(context, str) and "openvex" in context:
        return Detected("openvex", "OpenVEX @context")
    if "@graph" in doc or (isinstance(context, str) and "spdx.org" in context):
        return Detected("unknown", "SPDX 3 (JSON-LD) is not supported (SPDX 2.2 and 2.3 are)")
    if "id" in doc and ("affected" in doc or "modified" in doc):
        return Detected("osv", "an OSV record")
    return Detected(
        "unknown", "a JSON object that is neither CycloneDX (bomFormat) nor SPDX (spdxVersion)"
    )
