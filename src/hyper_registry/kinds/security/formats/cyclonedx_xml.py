"""CycloneDX XML 1.2-1.6: parsed safely, validated against the official XSD shipped by
cyclonedx-python-lib, then turned into the JSON shape ``cyclonedx.extract`` reads."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from hyper_registry.core.errors import Invalid, Problem
from hyper_registry.kinds.security.formats import cyclonedx, safexml
from hyper_registry.kinds.security.formats._common import invalid
from hyper_registry.kinds.security.parsed import Sbom

if TYPE_CHECKING:
    from cyclonedx.validation.xml import XmlValidator

_NS = "http://cyclonedx.org/schema/bom/"


def parse_xml(data: bytes) -> Sbom:
    root = safexml.parse(data)  # refuses DTD/entities before anything else looks at it
    tag = str(root.tag)
    if not tag.startswith("{" + _NS) or not tag.endswith("}bom"):
        shown = tag if len(tag) < 120 else tag[:117] + "..."
        raise Invalid.at(
            ("/",),
            f"not a supported SBOM: the XML root is <{shown}>, not a CycloneDX <bom>",
            "unsupported-format",
        )
    version = tag[len(_NS) + 1 : -len("}bom")]
    cyclonedx.check_spec_version(version, "xmlns")
    validate_xml(data, version)
    ns = "{" + _NS + version + "}"
    doc = _Converter(ns).bom(root)
    return cyclonedx.extract(doc, version, "xml")


@lru_cache(maxsize=8)
def _xml_validator(version: str) -> XmlValidator:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.xml import XmlValidator

    return XmlValidator(SchemaVersion.from_version(version))


def validate_xml(data: bytes, version: str) -> None:
    """Validate against the official CycloneDX XSD (lxml, no network, no entities, no DTD)."""
    try:
        from lxml import etree  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - lxml is part of the security extra
        raise Invalid(
            "CycloneDX XML validation needs lxml: install hyper-registry[security]"
        ) from None
    schema = _xml_validator(version)._validator
    parser = etree.XMLParser(
        load_dtd=False, no_network=True, resolve_entities=False, huge_tree=False, recover=False
    )
    try:
        tree = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise Invalid.at(
            (f"line {exc.lineno}",), f"not well-formed XML: {exc.msg}", "xml-syntax"
        ) from None
    if schema.validate(tree):
        return
    problems = [
        Problem((f"line {entry.line}",), _clean(entry.message), "schema")
        for entry in schema.error_log
    ]
    raise invalid(f"not a valid CycloneDX {version} XML document", problems)


def _clean(message: str) -> str:
    return message.replace("{" + _NS, "{…/").strip()


class _Converter:
    """The subset of the XML BOM the extractor reads, in the JSON document's shape."""

    def __init__(self, ns: str) -> None:
        self.ns = ns

    def _child(self, el: Any, name: str) -> Any:
        return el.find(self.ns + name)

    def _text(self, el: Any, name: str) -> str | None:
        child = el.find(self.ns + name)
        if child is None or child.text is None:
            return None
        return str(child.text).strip() or None

    def _items(self, el: Any, container: str, item: str) -> list[Any]:
        box = el.find(self.ns + container)
        return [] if box is None else list(box.findall(self.ns + item))

    def bom(self, root: Any) -> dict[str, Any]:
        doc: dict[str, Any] = {"serialNumber": root.get("serialNumber")}
        metadata = self._child(root, "metadata")
        if metadata is not None:
            comp = self._child(metadata, "component")
            doc["metadata"] = {"component": self.component(comp)} if comp is not None else {}
        doc["components"] = [
            self.component(c) for c in self._items(root, "components", "component")
        ]
        deps = self._child(root, "dependencies")
        if deps is not None:
            doc["dependencies"] = [
                {
                    "ref": dep.get("ref"),
                    "dependsOn": [
                        d.get("ref") for d in dep.findall(self.ns + "dependency") if d.get("ref")
                    ],
                    "provides": [
                        d.get("ref") for d in dep.findall(self.ns + "provides") if d.get("ref")
                    ],
                }
                for dep in deps.findall(self.ns + "dependency")
            ]
        vulns = self._items(root, "vulnerabilities", "vulnerability")
        if vulns:
            doc["vulnerabilities"] = [self.vulnerability(v) for v in vulns]
        return doc

    def component(self, el: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"type": el.get("type"), "bom-ref": el.get("bom-ref")}
        for name in ("group", "name", "version", "purl", "cpe", "publisher"):
            out[name] = self._text(el, name)
        supplier = self._child(el, "supplier")
        if supplier is not None:
            out["supplier"] = {"name": self._text(supplier, "name")}
        licenses: list[dict[str, Any]] = []
        box = self._child(el, "licenses")
        if box is not None:
            for lic in box:
                if lic.tag == self.ns + "expression" and lic.text:
                    licenses.append({"expression": lic.text.strip()})
                elif lic.tag == self.ns + "license":
                    licenses.append(
                        {"license": {"id": self._text(lic, "id"), "name": self._text(lic, "name")}}
                    )
        out["licenses"] = licenses
        out["hashes"] = [
            {"alg": h.get("alg"), "content": (h.text or "").strip()}
            for h in self._items(el, "hashes", "hash")
        ]
        nested = self._items(el, "components", "component")
        if nested:
            out["components"] = [self.component(c) for c in nested]
        return out

    def vulnerability(self, el: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"bom-ref": el.get("bom-ref")}
        for name in ("id", "description", "detail", "published", "updated"):
            out[name] = self._text(el, name)
        source = self._child(el, "source")
        if source is not None:
            out["source"] = {"name": self._text(source, "name"), "url": self._text(source, "url")}
        out["references"] = [
            {"id": self._text(r, "id")} for r in self._items(el, "references", "reference")
        ]
        out["ratings"] = [
            {k: self._text(r, k) for k in ("score", "severity", "method", "vector")}
            for r in self._items(el, "ratings", "rating")
        ]
        out["advisories"] = [
            {"url": self._text(a, "url")} for a in self._items(el, "advisories", "advisory")
        ]
        out["affects"] = [
            {
                "ref": self._text(t, "ref"),
                "versions": [
                    {
                        "version": self._text(v, "version"),
                        "status": self._text(v, "status") or "affected",
                    }
                    for v in self._items(t, "versions", "version")
                ],
            }
            for t in self._items(el, "affects", "target")
        ]
        analysis = self._child(el, "analysis")
        if analysis is not None:
            out["analysis"] = {
                "state": self._text(analysis, "state"),
                "justification": self._text(analysis, "justification"),
                "detail": self._text(analysis, "detail"),
                "lastUpdated": self._text(analysis, "lastUpdated"),
                "response": [
                    (r.text or "").strip() for r in self._items(analysis, "responses", "response")
                ],
            }
        return out
