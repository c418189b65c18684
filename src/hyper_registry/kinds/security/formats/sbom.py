"""``parse_sbom``: one entry point for every SBOM format the registry reads."""

from __future__ import annotations

from hyper_registry.core.errors import Invalid
from hyper_registry.kinds.security.formats import cyclonedx
from hyper_registry.kinds.security.formats._common import DEFAULT_MAX_BYTES, check_size, decode_text
from hyper_registry.kinds.security.formats.detect import classify_json, detect
from hyper_registry.kinds.security.parsed import Sbom


def parse_sbom(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Sbom:
    """Parse and validate a CycloneDX (JSON/XML) or SPDX (JSON/tag-value) SBOM.

    The format is detected from the content. Raises TooLarge over ``max_bytes`` and Invalid
    (problems located by JSON pointer or line) on anything unsupported or not valid.
    """
    check_size(data, max_bytes, "SBOM")
    found = detect(data)
    if found.kind in ("cyclonedx-xml", "xml"):
        from hyper_registry.kinds.security.formats import cyclonedx_xml

        return cyclonedx_xml.parse_xml(data)
    if found.kind == "spdx-tag-value":
        from hyper_registry.kinds.security.formats import spdx

        return spdx.parse_tag_value(decode_text(data))
    if found.kind == "unknown":
        raise Invalid.at(("/",), f"not a supported SBOM: {found.reason}", "unsupported-format")
    doc = cyclonedx.loads(decode_text(data))
    kind = classify_json(doc)
    if kind.kind == "cyclonedx-json":
        assert isinstance(doc, dict)
        return cyclonedx.parse_json(doc)
    if kind.kind == "spdx-json":
        from hyper_registry.kinds.security.formats import spdx

        assert isinstance(doc, dict)
        return spdx.parse_json(doc)
    reason = kind.reason
    if kind.kind in ("openvex", "osv"):
        reason = f"this is {kind.reason}, not an SBOM"
    raise Invalid.at(("/",), f"not a supported SBOM: {reason}", "unsupported-format")
