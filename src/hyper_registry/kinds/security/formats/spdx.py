"""SPDX 2.2 and 2.3, JSON and tag-value, parsed and validated by spdx-tools.

Packages become components; relationships become dependencies; the DESCRIBES target is the
described artifact (removed from ``components`` like CycloneDX's ``metadata.component``).
"""

from __future__ import annotations

import re
from typing import Any

from hyper_registry.core.errors import Invalid, Problem
from hyper_registry.kinds.security.formats._common import dedupe, invalid, pointer, split_purl
from hyper_registry.kinds.security.parsed import (
    Advisory,
    Affected,
    Component,
    Dependency,
    Encoding,
    Note,
    Sbom,
)

SPEC_VERSIONS = ("SPDX-2.2", "SPDX-2.3")
_LINE = re.compile(r"Line:? (\d+)", re.IGNORECASE)
_ADVISORY_ID = re.compile(
    r"(CVE-\d{4}-\d{4,}|GHSA(?:-[23456789cfghjmpqrvwx]{4}){3}|[A-Z]+-\d{4}-\d+)"
)

TOLERATED = ("must contain no elements if files_analyzed is False",)
"""Validator findings kept as notes, not refusals: consistency rules that real generators
break (spdx-examples' own appbomination.spdx.json does) and that do not affect what we read."""

_FORWARD = {"DEPENDS_ON": "dependsOn", "CONTAINS": "contains", "DESCRIBES": "describes"}
_REVERSE = {
    "DEPENDENCY_OF": "dependsOn",
    "BUILD_DEPENDENCY_OF": "dependsOn",
    "DEV_DEPENDENCY_OF": "dependsOn",
    "OPTIONAL_DEPENDENCY_OF": "dependsOn",
    "PROVIDED_DEPENDENCY_OF": "dependsOn",
    "RUNTIME_DEPENDENCY_OF": "dependsOn",
    "TEST_DEPENDENCY_OF": "dependsOn",
    "CONTAINED_BY": "contains",
    "DESCRIBED_BY": "describes",
}
"""SPDX relationship types read as dependencies. ``X_OF`` types are reversed (B DEPENDENCY_OF A
is A dependsOn B). Other types (GENERATED_FROM, VARIANT_OF, ...) are kept under their SPDX name."""


def _check_version(version: object, where: str) -> str:
    if not isinstance(version, str) or version not in SPEC_VERSIONS:
        raise Invalid.at(
            (where,),
            f"unsupported SPDX version {version!r} (supported: SPDX-2.2, SPDX-2.3)",
            "unsupported-version",
        )
    return version


_REQUIRED: dict[str, tuple[str, ...]] = {
    "": ("spdxVersion", "SPDXID", "name", "dataLicense", "documentNamespace", "creationInfo"),
    "creationInfo": ("created", "creators"),
    "packages": ("SPDXID", "name", "downloadLocation"),
    "files": ("SPDXID", "fileName", "checksums"),
    "snippets": ("SPDXID", "snippetFromFile", "ranges"),
    "relationships": ("spdxElementId", "relatedSpdxElement", "relationshipType"),
    "annotations": ("annotationDate", "annotationType", "annotator", "comment"),
    "hasExtractedLicensingInfos": ("licenseId", "extractedText"),
    "externalDocumentRefs": ("externalDocumentId", "spdxDocument", "checksum"),
}
"""The fields SPDX 2.2/2.3 JSON requires (checked first, so problems carry a JSON pointer)."""

_OBJECTS = ("creationInfo", "packageVerificationCode", "checksum")
"""Members that must be objects."""
_OBJECT_LISTS = ("externalRefs", "checksums", "annotations", "ranges")
"""Members that must be lists of objects (spdx-tools assumes so and fails badly otherwise)."""
_STRING_LISTS = (
    "documentDescribes",
    "creators",
    "hasFiles",
    "licenseInfoFromFiles",
    "licenseInfoInFiles",
    "fileTypes",
    "attributionTexts",
    "fileContributors",
    "seeAlsos",
)


def _required(doc: dict[str, Any]) -> list[Problem]:
    """Required fields and the object/list shapes spdx-tools relies on, located by pointer."""
    problems: list[Problem] = []

    def bad(path: list[str | int], message: str) -> None:
        problems.append(Problem((pointer(path) or "/",), message, "schema"))

    def check(obj: Any, section: str, path: list[str | int]) -> None:
        if not isinstance(obj, dict):
            bad(path, "must be an object")
            return
        for name in _REQUIRED.get(section, ()):
            if obj.get(name) in (None, ""):
                bad([*path, name], f"'{name}' is required")
        for name in _OBJECTS:
            if name in obj and not isinstance(obj[name], dict):
                bad([*path, name], "must be an object")
        for name in _OBJECT_LISTS:
            value = obj.get(name)
            if value is None:
                continue
            if not isinstance(value, list):
                bad([*path, name], "must be a list")
                continue
            for index, item in enumerate(value):
                if not isinstance(item, dict):
                    bad([*path, name, index], "must be an object")
        for name in _STRING_LISTS:
            value = obj.get(name)
            if value is not None and (
                not isinstance(value, list) or not all(isinstance(v, str) for v in value)
            ):
                bad([*path, name], "must be a list of strings")

    check(doc, "", [])
    if isinstance(doc.get("creationInfo"), dict):
        check(doc["creationInfo"], "creationInfo", ["creationInfo"])
    for section in _REQUIRED:
        if section in ("", "creationInfo") or doc.get(section) is None:
            continue
        items = doc[section]
        if not isinstance(items, list):
            bad([section], "must be a list")
            continue
        for index, item in enumerate(items):
            check(item, section, [section, index])
    return problems


def parse_json(doc: dict[str, Any]) -> Sbom:
    from spdx_tools.spdx.parser.error import SPDXParsingError
    from spdx_tools.spdx.parser.jsonlikedict.json_like_dict_parser import JsonLikeDictParser

    _check_version(doc.get("spdxVersion"), "/spdxVersion")
    missing = _required(doc)
    if missing:
        raise invalid("not a valid SPDX JSON document", missing)
    try:
        document = JsonLikeDictParser().parse(doc)  # type: ignore[no-untyped-call]
    except SPDXParsingError as exc:
        raise _parse_error(exc.get_messages(), "SPDX JSON") from None  # type: ignore[no-untyped-call]
    except (AttributeError, TypeError, KeyError, ValueError, IndexError) as exc:
        # spdx-tools assumes well-typed input in places; report rather than crash
        raise Invalid.at(
            ("/",), f"an SPDX element has a value of the wrong type ({type(exc).__name__})"
        ) from None
    locate = _json_locator(doc)
    try:
        return _build(document, "json", locate)
    except (AttributeError, TypeError, KeyError, IndexError) as exc:
        raise Invalid.at(
            ("/",), f"an SPDX element has a value of the wrong type ({type(exc).__name__})"
        ) from None


def parse_tag_value(text: str) -> Sbom:
    from ply import yacc  # type: ignore[import-untyped]
    from spdx_tools.spdx.parser.error import SPDXParsingError
    from spdx_tools.spdx.parser.tagvalue.parser import Parser

    match = re.search(r"^\s*SPDXVersion\s*:\s*(\S+)", text, re.MULTILINE)
    _check_version(
        match.group(1) if match else None, f"line {_line_of(text, match.start()) if match else 1}"
    )
    parser = Parser(write_tables=False, debug=False, errorlog=yacc.NullLogger())  # type: ignore[no-untyped-call]
    try:
        document = parser.parse(text)  # type: ignore[no-untyped-call]
    except SPDXParsingError as exc:
        messages = exc.get_messages()  # type: ignore[no-untyped-call]
        raise _parse_error(messages, "SPDX tag-value", text) from None
    except (AttributeError, TypeError, KeyError, ValueError, IndexError) as exc:
        # spdx-tools' tag-value parser trips over some malformed layouts (e.g. a relationship
        # line where it expects none); report it rather than crash
        raise Invalid.at(
            ("/",), f"malformed SPDX tag-value document ({type(exc).__name__}: {exc})"[:300]
        ) from None
    return _build(document, "tag-value", _tag_value_locator(text))


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


_WRAPPED = re.compile(r"^Error while (?:parsing|constructing) ([\w ]+): \[(.*)\]$", re.DOTALL)
_SETTER = re.compile(r"parameter (\w+)=(.*?) violates type hint")
_VALUE = re.compile(r"value of (\w+) .*but is: (.+)$")


def _clean(message: str) -> str:
    """Unwrap spdx-tools' nested 'Error while parsing X: ['...']' into 'X: ...'."""
    found = _WRAPPED.match(message.strip())
    while found:
        inner = found.group(2).strip().strip("'\"")
        message = f"{found.group(1)}: {inner}"
        found = _WRAPPED.match(inner)
        if found:
            message = f"{message.split(':', 1)[0]}: {_clean(inner)}"
            break
    setter = _SETTER.search(message)
    if setter:
        where = message.split(":", 1)[0]
        value = setter.group(2).strip('"')
        return f"{where}: {setter.group(1)} has a missing or wrong-typed value ({value})"
    return message


def _guess_line(message: str, text: str | None) -> str | None:
    """The line of a tag-value error that names the tag and the bad value but no line."""
    found = _VALUE.search(message)
    if text is None or not found:
        return None
    tag, value = found.group(1), found.group(2).strip()
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip().startswith(f"{tag}:") and value in line:
            return f"line {number}"
    return None


def _parse_error(messages: list[str], what: str, text: str | None = None) -> Invalid:
    problems = []
    for message in _flatten(messages):
        found = _LINE.search(message)
        cleaned = _clean(message)
        loc = f"line {found.group(1)}" if found else (_guess_line(cleaned, text) or "/")
        problems.append(Problem((loc,), cleaned, "schema"))
    return invalid(
        f"not a valid {what} document", problems or [Problem(("/",), "unreadable", "schema")]
    )


def _flatten(messages: list[Any]) -> list[str]:
    out: list[str] = []
    for message in messages:
        if isinstance(message, list):
            out.extend(_flatten(message))
        else:
            out.append(str(message))
    return out


def _json_locator(doc: dict[str, Any]) -> dict[str, str]:
    where: dict[str, str] = {"SPDXRef-DOCUMENT": ""}
    for section in ("packages", "files", "snippets"):
        for index, item in enumerate(doc.get(section) or []):
            if isinstance(item, dict) and isinstance(item.get("SPDXID"), str):
                where[item["SPDXID"]] = pointer([section, index])
    return where


def _tag_value_locator(text: str) -> dict[str, str]:
    where: dict[str, str] = {}
    for found in re.finditer(r"^\s*SPDXID\s*:\s*(\S+)", text, re.MULTILINE):
        where.setdefault(found.group(1), f"line {_line_of(text, found.start())}")
    return where


def _validate(document: Any, locate: dict[str, str], notes: list[Note]) -> None:
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    problems: list[Problem] = []
    for message in validate_full_spdx_document(document):
        spdx_id = message.context.spdx_id or message.context.parent_id
        loc = locate.get(spdx_id or "", "") or "/"
        text = message.validation_message
        if len(text) > 300:
            text = text[:297] + "..."
        if 'locator of type "purl"' in message.validation_message:
            continue  # a malformed purl keeps its package: reported by split_purl as bad-purl
        if any(t in message.validation_message for t in TOLERATED):
            notes.append(Note(where=loc, message=f"{spdx_id}: {text}", code="spdx-consistency"))
            continue
        problems.append(Problem((loc,), f"{spdx_id}: {text}" if spdx_id else text, "schema"))
    if problems:
        raise invalid("not a valid SPDX document", problems)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return None if text in ("", "NOASSERTION", "NONE") else text


def _supplier(value: Any) -> str | None:
    name = getattr(value, "name", None)
    return _text(name) if name is not None else _text(value)


def _component(package: Any, where: str, notes: list[Note]) -> Component:
    purl = cpe = None
    for ref in package.external_references or []:
        kind = str(ref.reference_type)
        if kind == "purl" and purl is None:
            purl = ref.locator.strip()
        elif kind in ("cpe23Type", "cpe22Type") and cpe is None:
            cpe = ref.locator.strip()
    licenses = [
        text for text in (_text(package.license_declared), _text(package.license_concluded)) if text
    ]
    comp = Component(
        key=package.spdx_id,
        name=package.name,
        version=_text(package.version),
        purl=purl,
        cpe=cpe,
        licenses=list(dict.fromkeys(licenses)),
        hashes={c.algorithm.name.replace("_", "-"): c.value for c in package.checksums or []},
        supplier=_supplier(package.supplier),
        matchable=purl is not None,
    )
    return split_purl(comp, where, notes)


def _security_refs(document: Any, components: list[Component]) -> list[Advisory]:
    """SPDX 2.3 ``SECURITY``/``advisory`` external references as advisories naming the package
    (the advisory id is taken from the URL: CVE-..., GHSA-..., or the URL itself)."""
    by_key = {c.key: c for c in components}
    found: dict[str, Advisory] = {}
    for package in document.packages:
        comp = by_key.get(package.spdx_id)
        for ref in package.external_references or []:
            if ref.category.name != "SECURITY" or str(ref.reference_type) != "advisory":
                continue
            url = ref.locator.strip()
            match = _ADVISORY_ID.search(url)
            adv_id = match.group(1) if match else url
            adv = found.setdefault(adv_id, Advisory(id=adv_id, references=[url]))
            adv.affected.append(
                Affected(
                    ref=package.spdx_id,
                    name=comp.name if comp else package.name,
                    purl=comp.purl if comp else None,
                    versions=[comp.version] if comp and comp.version else [],
                )
            )
    return list(found.values())


def _build(document: Any, encoding: Encoding, locate: dict[str, str]) -> Sbom:
    notes: list[Note] = []
    version = _check_version(document.creation_info.spdx_version, "spdxVersion")
    _validate(document, locate, notes)
    doc_id = document.creation_info.spdx_id
    components = [
        _component(p, locate.get(p.spdx_id, "/") + "/externalRefs", notes)
        for p in document.packages
    ]
    components = dedupe(components, notes, "/packages")
    keys = {c.key for c in components}
    described_keys: list[str] = []
    dependencies: list[Dependency] = []
    for rel in document.relationships:
        kind = rel.relationship_type.name
        source, target = rel.spdx_element_id, str(rel.related_spdx_element_id)
        if kind in _REVERSE:
            source, target, name = target, source, _REVERSE[kind]
        else:
            name = _FORWARD.get(kind, kind)
        if name == "describes":
            if source == doc_id and target in keys:
                described_keys.append(target)
            continue
        if source in keys and target in keys:
            dependencies.append(Dependency(source=source, target=target, relationship=name))
    described: Component | None = None
    if described_keys:
        described = next(c for c in components if c.key == described_keys[0])
        components = [c for c in components if c.key != described.key]
        if len(described_keys) > 1:
            notes.append(
                Note(
                    where="/relationships",
                    message=f"the document describes {len(described_keys)} packages; "
                    f"{described.key} is taken as the described artifact",
                    code="several-described",
                )
            )
    return Sbom(
        vulnerabilities=_security_refs(
            document, [*components, *([described] if described else [])]
        ),
        format="spdx",
        spec_version=version.removeprefix("SPDX-"),
        encoding=encoding,
        name=document.creation_info.name,
        described=described,
        components=components,
        dependencies=dependencies,
        notes=notes,
    )
