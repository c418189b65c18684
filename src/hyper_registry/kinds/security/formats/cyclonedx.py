"""CycloneDX 1.2-1.6: schema validation (JSON) and extraction from the JSON-shaped document.

The XML reader (``cyclonedx_xml``) turns an XML BOM into the same JSON shape, so the
extraction below serves both encodings.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from hyper_registry.core.errors import Invalid, Problem
from hyper_registry.kinds.security.formats._common import (
    dedupe,
    invalid,
    pointer,
    split_purl,
)
from hyper_registry.kinds.security.parsed import (
    Advisory,
    Affected,
    Component,
    Dependency,
    Encoding,
    Note,
    Sbom,
    Severity,
    VexStatement,
    VexStatus,
)

if TYPE_CHECKING:
    from cyclonedx.validation.json import JsonValidator

SPEC_VERSIONS = ("1.2", "1.3", "1.4", "1.5", "1.6")
MAX_NESTING = 64
"""Nested components deeper than this are refused (hostile input)."""

ANALYSIS_STATES: dict[str, VexStatus] = {
    "resolved": "fixed",
    "resolved_with_pedigree": "fixed",
    "exploitable": "affected",
    "in_triage": "under_investigation",
    "false_positive": "not_affected",
    "not_affected": "not_affected",
}
"""CycloneDX ``analysis.state`` to the VEX status (CycloneDX VEX mapping, as in OpenVEX docs)."""

RATING_METHODS = {
    "CVSSv2": ("CVSS_V2", ""),
    "CVSSv3": ("CVSS_V3", "CVSS:3.0/"),
    "CVSSv31": ("CVSS_V3", "CVSS:3.1/"),
    "CVSSv4": ("CVSS_V4", "CVSS:4.0/"),
}


def check_spec_version(version: object, where: str) -> str:
    if not isinstance(version, str) or version not in SPEC_VERSIONS:
        raise Invalid.at(
            (where,),
            f"unsupported CycloneDX specVersion {version!r} (supported: {', '.join(SPEC_VERSIONS)})",
            "unsupported-version",
        )
    return version


@lru_cache(maxsize=8)
def _json_validator(version: str) -> JsonValidator:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonValidator

    return JsonValidator(SchemaVersion.from_version(version))


@lru_cache(maxsize=8)
def _fast_validator(version: str) -> Any:
    """The same official schema compiled by jsonschema-rs (hundreds of times faster than the
    pure-Python validator on large BOMs), or None when jsonschema-rs is not installed."""
    try:
        import jsonschema_rs
    except ImportError:
        return None
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.schema._res import BOM_JSON, CRYPTOGRAPHY_DEFS, JSF, SPDX_JSON

    bundled: dict[str, Any] = {}
    for path, name in (
        (SPDX_JSON, "spdx.SNAPSHOT.schema.json"),
        (JSF, "jsf-0.82.SNAPSHOT.schema.json"),
        (CRYPTOGRAPHY_DEFS, "cryptography-defs.SNAPSHOT.schema.json"),
    ):
        with open(path, encoding="utf-8") as handle:
            bundled["http://cyclonedx.org/schema/" + name] = json.load(handle)

    def retrieve(uri: str) -> Any:
        if uri not in bundled:  # nothing is ever fetched
            raise ValueError(f"schema {uri} is not bundled")
        return bundled[uri]

    schema_file = BOM_JSON[SchemaVersion.from_version(version)]
    with open(str(schema_file), encoding="utf-8") as handle:
        schema = json.load(handle)
    return jsonschema_rs.validator_for(schema, retriever=retrieve)


def _errors(doc: dict[str, Any], version: str) -> Iterator[tuple[list[str | int], str, str]]:
    """(path, rule, message) of each schema violation."""
    fast = _fast_validator(version)
    if fast is not None:
        for error in fast.iter_errors(doc):
            rule = type(error.kind).__name__
            yield (
                list(error.instance_path),
                "uniqueItems" if rule == "UniqueItems" else rule,
                error.message,
            )
        return
    validator = _json_validator(version)._validator  # the compiled jsonschema validator
    for error in validator.iter_errors(doc):
        yield list(error.absolute_path), str(error.validator), error.message


def validate_json(doc: dict[str, Any], version: str, notes: list[Note] | None = None) -> None:
    """Validate against the official CycloneDX JSON schema shipped by cyclonedx-python-lib
    (with jsonschema-rs when installed, else cyclonedx-python-lib's own JsonValidator).

    One schema rule is reported as a note instead of a refusal: identical duplicate entries
    in a ``components`` list (``uniqueItems``); they are kept once."""
    problems: list[Problem] = []
    for path, rule, message in _errors(doc, version):
        where = pointer(path) or "/"
        if notes is not None and rule == "uniqueItems" and path and path[-1] == "components":
            notes.append(
                Note(
                    where=where,
                    message="identical duplicate components",
                    code="duplicate-component",
                )
            )
            continue
        problems.append(Problem((where,), _short(message), "schema"))
        if len(problems) >= 50:
            break
    if problems:
        problems.sort(key=lambda p: str(p.loc[0]))
        raise invalid(f"not a valid CycloneDX {version} document", problems)


def _short(message: str, limit: int = 300) -> str:
    return message if len(message) <= limit else message[: limit - 3] + "..."


def parse_json(doc: dict[str, Any]) -> Sbom:
    """Validate and extract a CycloneDX JSON document (already decoded)."""
    version = check_spec_version(doc.get("specVersion"), "/specVersion")
    notes: list[Note] = []
    validate_json(doc, version, notes)
    sbom = extract(doc, version, "json")
    if notes:
        kept = [n for n in sbom.notes if n.code != "duplicate-component"]
        dups = [n for n in sbom.notes if n.code == "duplicate-component"]
        sbom.notes = kept + (dups or notes)
    return sbom


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    return str(value)


def _licenses(entries: object) -> list[str]:
    out: list[str] = []
    if not isinstance(entries, list):
        return out
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        if isinstance(entry.get("expression"), str):
            out.append(entry["expression"])
            continue
        lic = entry.get("license")
        if isinstance(lic, dict):
            found = _text(lic.get("id")) or _text(lic.get("name"))
            if found:
                out.append(found)
    return out


def _hashes(entries: object) -> dict[str, str]:
    out: dict[str, str] = {}
    if isinstance(entries, list):
        for entry in entries:
            if isinstance(entry, dict) and entry.get("alg") and entry.get("content"):
                out[str(entry["alg"])] = str(entry["content"])
    return out


def _supplier(comp: dict[str, Any]) -> str | None:
    supplier = comp.get("supplier")
    if isinstance(supplier, dict):
        name = _text(supplier.get("name"))
        if name:
            return name
    return _text(comp.get("publisher"))


class _Walker:
    def __init__(self) -> None:
        self.notes: list[Note] = []
        self.components: list[Component] = []
        self.keys_seen = 0

    def component(self, raw: dict[str, Any], where: str, parent: str | None) -> Component:
        name = _text(raw.get("name")) or ""
        version = _text(raw.get("version"))
        group = _text(raw.get("group"))
        purl = _text(raw.get("purl"))
        key = _text(raw.get("bom-ref"))
        if key is None:
            key = purl or "/".join(p for p in (group, name) if p) + (
                f"@{version}" if version else ""
            )
            key = key or where
        comp = Component(
            key=key,
            name=name,
            version=version,
            group=group,
            purl=purl,
            cpe=_text(raw.get("cpe")),
            licenses=_licenses(raw.get("licenses")),
            hashes=_hashes(raw.get("hashes")),
            supplier=_supplier(raw),
            parent=parent,
            matchable=purl is not None,
        )
        return split_purl(comp, f"{where}/purl", self.notes)

    def walk(self, raws: object, where: str, parent: str | None, depth: int) -> None:
        if not isinstance(raws, list):
            return
        if depth > MAX_NESTING:
            raise Invalid.at((where,), f"components nested deeper than {MAX_NESTING} levels")
        for index, raw in enumerate(raws):
            if not isinstance(raw, dict):
                continue
            here = f"{where}/{index}"
            comp = self.component(raw, here, parent)
            self.components.append(comp)
            self.walk(raw.get("components"), f"{here}/components", comp.key, depth + 1)


def extract(doc: dict[str, Any], version: str, encoding: Encoding) -> Sbom:
    walker = _Walker()
    metadata = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    described: Component | None = None
    assert isinstance(metadata, dict)
    if isinstance(metadata.get("component"), dict):
        described = walker.component(metadata["component"], "/metadata/component", None)
        walker.walk(
            metadata["component"].get("components"),
            "/metadata/component/components",
            described.key,
            1,
        )
    walker.walk(doc.get("components"), "/components", None, 0)
    notes = walker.notes
    components = dedupe(walker.components, notes, "/components")
    dependencies: list[Dependency] = []
    for index, dep in enumerate(doc.get("dependencies") or []):
        if not isinstance(dep, dict) or not dep.get("ref"):
            continue
        for rel, field in (("dependsOn", "dependsOn"), ("provides", "provides")):
            for target in dep.get(field) or []:
                if isinstance(target, str):
                    dependencies.append(
                        Dependency(source=dep["ref"], target=target, relationship=rel)
                    )
        del index
    advisories, vex = vulnerabilities(doc.get("vulnerabilities"), components, notes)
    return Sbom(
        format="cyclonedx",
        spec_version=version,
        encoding=encoding,
        name=_text(doc.get("serialNumber")) or (described.name if described else None),
        described=described,
        components=components,
        dependencies=dependencies,
        vulnerabilities=advisories,
        vex=vex,
        notes=notes,
    )


def _vector(rating: dict[str, Any]) -> Severity | None:
    vector = _text(rating.get("vector"))
    method = _text(rating.get("method"))
    if not vector or method not in RATING_METHODS:
        return None
    kind, prefix = RATING_METHODS[method]
    if prefix and not vector.startswith("CVSS:"):
        vector = prefix + vector
    if kind == "CVSS_V2":
        vector = vector.strip("()")
    return Severity(type=kind, vector=vector)


def vulnerabilities(
    raws: object, components: list[Component], notes: list[Note]
) -> tuple[list[Advisory], list[VexStatement]]:
    """Embedded ``vulnerabilities`` as advisories, and their ``analysis`` as VEX statements."""
    if not isinstance(raws, list):
        return [], []
    by_key = {c.key: c for c in components}
    advisories: list[Advisory] = []
    statements: list[VexStatement] = []
    for index, raw in enumerate(raws):
        where = f"/vulnerabilities/{index}"
        if not isinstance(raw, dict) or not _text(raw.get("id")):
            notes.append(Note(where=where, message="vulnerability without an id skipped"))
            continue
        vid = str(raw["id"]).strip()
        aliases = [
            str(ref["id"])
            for ref in raw.get("references") or []
            if isinstance(ref, dict) and ref.get("id") and ref["id"] != vid
        ]
        severities: list[Severity] = []
        label: str | None = None
        for rating in raw.get("ratings") or []:
            if not isinstance(rating, dict):
                continue
            sev = _vector(rating)
            if sev is not None:
                if sev not in severities:
                    severities.append(sev)
            elif isinstance(rating.get("severity"), str) and label is None:
                label = rating["severity"].lower()
        refs = [
            str(a["url"])
            for a in raw.get("advisories") or []
            if isinstance(a, dict) and a.get("url")
        ]
        source = raw.get("source")
        if isinstance(source, dict) and source.get("url"):
            refs.insert(0, str(source["url"]))
        affected: list[Affected] = []
        products: list[str] = []
        for target in raw.get("affects") or []:
            if not isinstance(target, dict) or not target.get("ref"):
                continue
            ref = str(target["ref"])
            products.append(ref)
            comp = by_key.get(ref)
            versions = [
                str(v["version"])
                for v in target.get("versions") or []
                if isinstance(v, dict)
                and v.get("version")
                and v.get("status", "affected") == "affected"
            ]
            affected.append(
                Affected(
                    ref=ref,
                    purl=comp.purl if comp else None,
                    name=comp.name if comp else None,
                    versions=versions,
                )
            )
        advisories.append(
            Advisory(
                id=vid,
                aliases=aliases,
                summary=_text(raw.get("description")),
                details=_text(raw.get("detail")),
                published=_text(raw.get("published")),
                modified=_text(raw.get("updated")),
                severity=severities,
                severity_label=label,
                affected=affected,
                references=refs,
            )
        )
        analysis = raw.get("analysis")
        if isinstance(analysis, dict) and analysis.get("state"):
            state = str(analysis["state"])
            status = ANALYSIS_STATES.get(state)
            if status is None:
                notes.append(
                    Note(where=f"{where}/analysis/state", message=f"unknown state {state!r}")
                )
                continue
            responses = analysis.get("response")
            detail = _text(analysis.get("detail"))
            if isinstance(responses, list) and responses:
                extra = "response: " + ", ".join(str(r) for r in responses)
                detail = f"{detail} ({extra})" if detail else extra
            statements.append(
                VexStatement(
                    vulnerability=vid,
                    status=status,
                    justification=_text(analysis.get("justification"))
                    or ("false_positive" if state == "false_positive" else None),
                    statement=detail,
                    products=products,
                    timestamp=_text(analysis.get("lastUpdated")) or _text(raw.get("updated")),
                )
            )
    return advisories, statements


def split_bom_link(ref: str) -> tuple[str, int, str] | None:
    """``urn:cdx:<serial>/<version>#<bom-ref>`` -> (``urn:uuid:<serial>``, version, bom-ref).

    CycloneDX VEX documents point into another BOM with such links; None for a plain ref."""
    if not ref.startswith("urn:cdx:") or "#" not in ref:
        return None
    head, _, bom_ref = ref.partition("#")
    serial, _, version = head.removeprefix("urn:cdx:").partition("/")
    if not serial or not version.isdigit() or not bom_ref:
        return None
    from urllib.parse import unquote

    return f"urn:uuid:{serial}", int(version), unquote(bom_ref)


def loads(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise Invalid.at(
            (f"line {exc.lineno}",), f"not valid JSON: {exc.msg} (column {exc.colno})"
        ) from None
    except RecursionError:
        raise Invalid.at(("/",), "JSON nested too deeply", "too-deep") from None
