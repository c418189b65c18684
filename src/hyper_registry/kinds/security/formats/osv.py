"""OSV advisories (JSON, or the YAML form some databases publish), strictly checked.

There is no OSV schema in the installed libraries, so the check is our own and strict about
what matching relies on (id, affected packages, range types and events); unknown extra fields
are ignored, as the OSV schema allows.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import yaml

from hyper_registry.core.errors import Invalid, Problem
from hyper_registry.kinds.security.formats._common import (
    check_size,
    decode_text,
    invalid,
    pointer,
)
from hyper_registry.kinds.security.parsed import Advisory, Affected, Event, Note, Range, Severity

MAX_ADVISORY_BYTES = 8 * 1024 * 1024
"""One OSV record larger than this is refused (the largest real ones are a few hundred KiB)."""

RANGE_TYPES = ("SEMVER", "ECOSYSTEM", "GIT")
EVENT_KEYS = ("introduced", "fixed", "last_affected", "limit")
SEVERITY_WORDS = {
    "critical": "critical",
    "high": "high",
    "moderate": "medium",
    "medium": "medium",
    "low": "low",
    "none": "none",
}
"""``database_specific.severity`` words (GitHub uses MODERATE for medium)."""


class _StrictLoader(yaml.SafeLoader):
    """Safe YAML where every scalar stays a string (``1.10`` is a version, not 1.1) and
    anchors/aliases are refused (no alias bombs)."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, "YAML aliases are not accepted", event.start_mark
            )
        return super().compose_node(parent, index)


# Keep only the null resolver: numbers, booleans and timestamps stay text.
_StrictLoader.yaml_implicit_resolvers = {}
for _first, _resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items():
    kept = [(tag, rx) for tag, rx in _resolvers if tag == "tag:yaml.org,2002:null"]
    if kept:
        _StrictLoader.yaml_implicit_resolvers[_first] = kept


def load_document(data: bytes, where: str = "") -> Any:
    """Decode an OSV record: JSON when it starts like JSON, else YAML."""
    text = decode_text(data)
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise Invalid.at(
                (_at(where, f"line {exc.lineno}"),),
                f"not valid JSON: {exc.msg} (column {exc.colno})",
            ) from None
        except RecursionError:
            raise Invalid.at((_at(where, "/"),), "JSON nested too deeply", "too-deep") from None
    try:
        return yaml.load(text, Loader=_StrictLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}" if mark is not None else "line ?"
        problem = getattr(exc, "problem", None) or str(exc)
        raise Invalid.at((_at(where, line),), f"not valid YAML or JSON: {problem}") from None
    except RecursionError:
        raise Invalid.at((_at(where, "/"),), "YAML nested too deeply", "too-deep") from None


def _at(where: str, loc: str) -> str:
    return f"{where}:{loc}" if where else loc


class _Checker:
    def __init__(self, where: str) -> None:
        self.where = where
        self.problems: list[Problem] = []

    def bad(self, path: list[str | int], message: str) -> None:
        self.problems.append(Problem((_at(self.where, pointer(path) or "/"),), message, "schema"))

    def string(
        self, raw: Mapping[str, Any], key: str, path: list[str | int], required: bool = False
    ) -> str | None:
        value = raw.get(key)
        if value is None:
            if required:
                self.bad([*path, key], f"'{key}' is required")
            return None
        if not isinstance(value, str):
            self.bad([*path, key], f"'{key}' must be a string")
            return None
        return value

    def strings(self, raw: Mapping[str, Any], key: str, path: list[str | int]) -> list[str]:
        value = raw.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.bad([*path, key], f"'{key}' must be a list of strings")
            return []
        out: list[str] = []
        for index, item in enumerate(value):
            if isinstance(item, str):
                out.append(item)
            else:
                self.bad([*path, key, index], "must be a string")
        return out

    def items(
        self, raw: Mapping[str, Any], key: str, path: list[str | int]
    ) -> list[tuple[int, Mapping[str, Any]]]:
        value = raw.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.bad([*path, key], f"'{key}' must be a list")
            return []
        out: list[tuple[int, Mapping[str, Any]]] = []
        for index, item in enumerate(value):
            if isinstance(item, Mapping):
                out.append((index, item))
            else:
                self.bad([*path, key, index], "must be an object")
        return out


def parse_advisory(data: bytes | Mapping[str, Any], *, where: str = "") -> Advisory:
    """One OSV record (bytes of JSON or YAML, or an already decoded mapping) as an Advisory.

    ``where`` (a file name) prefixes every problem location. Raises Invalid with JSON
    pointers on a record that breaks the OSV schema on what matching relies on.
    """
    if isinstance(data, bytes | bytearray):
        check_size(bytes(data), MAX_ADVISORY_BYTES, "advisory")
        doc = load_document(bytes(data), where)
    else:
        doc = data
    if not isinstance(doc, Mapping):
        raise Invalid.at((_at(where, "/"),), "an OSV record must be an object")
    chk = _Checker(where)
    adv_id = chk.string(doc, "id", [], required=True)
    if adv_id is not None and not adv_id.strip():
        chk.bad(["id"], "'id' must not be empty")
    severity = _severities(chk, doc, [])
    affected: list[Affected] = []
    for index, raw in chk.items(doc, "affected", []):
        affected.append(_affected(chk, raw, ["affected", index], severity))
    references = [
        str(ref["url"])
        for _, ref in chk.items(doc, "references", [])
        if isinstance(ref.get("url"), str)
    ]
    label = None
    dbs = doc.get("database_specific")
    if isinstance(dbs, Mapping) and isinstance(dbs.get("severity"), str):
        label = SEVERITY_WORDS.get(dbs["severity"].strip().lower())
    if label is None:  # a word-valued severity type (Ubuntu's "medium", ...)
        label = next(
            (
                SEVERITY_WORDS[sev.vector.lower()]
                for sev in severity
                if not sev.type.upper().startswith("CVSS") and sev.vector.lower() in SEVERITY_WORDS
            ),
            None,
        )
    fields = {
        key: chk.string(doc, key, [])
        for key in ("summary", "details", "published", "modified", "withdrawn")
    }
    aliases = chk.strings(doc, "aliases", [])
    if chk.problems:
        raise invalid(f"not a valid OSV record{f' ({where})' if where else ''}", chk.problems)
    assert adv_id is not None
    notes: list[Note] = []
    return Advisory(
        id=adv_id.strip(),
        aliases=aliases,
        severity=severity,
        severity_label=label,
        affected=affected,
        references=references,
        notes=notes,
        **fields,
    )


def _severities(chk: _Checker, raw: Mapping[str, Any], path: list[str | int]) -> list[Severity]:
    out: list[Severity] = []
    for index, sev in chk.items(raw, "severity", path):
        kind = chk.string(sev, "type", [*path, "severity", index], required=True)
        score = chk.string(sev, "score", [*path, "severity", index], required=True)
        if kind and score:
            out.append(Severity(type=kind, vector=score.strip()))
    return out


def _affected(
    chk: _Checker, raw: Mapping[str, Any], path: list[str | int], severity: list[Severity]
) -> Affected:
    package = raw.get("package")
    ecosystem = name = purl = None
    if package is not None:
        if not isinstance(package, Mapping):
            chk.bad([*path, "package"], "'package' must be an object")
        else:
            ecosystem = chk.string(package, "ecosystem", [*path, "package"], required=True)
            name = chk.string(package, "name", [*path, "package"], required=True)
            purl = chk.string(package, "purl", [*path, "package"])
    ranges: list[Range] = []
    for index, rng in chk.items(raw, "ranges", path):
        here: list[str | int] = [*path, "ranges", index]
        kind = chk.string(rng, "type", here, required=True)
        if kind is not None and kind not in RANGE_TYPES:
            chk.bad(
                [*here, "type"], f"unknown range type {kind!r} (one of {', '.join(RANGE_TYPES)})"
            )
            continue
        repo = chk.string(rng, "repo", here)
        if kind == "GIT" and not repo:
            chk.bad([*here, "repo"], "a GIT range needs 'repo'")
        events: list[Event] = []
        introduced = False
        for eindex, event in chk.items(rng, "events", here):
            keys = [k for k in EVENT_KEYS if k in event]
            if len(keys) != 1 or not isinstance(event[keys[0]], str) or not event[keys[0]].strip():
                chk.bad(
                    [*here, "events", eindex],
                    f"an event has exactly one of {', '.join(EVENT_KEYS)} (a string)",
                )
                continue
            introduced = introduced or keys[0] == "introduced"
            events.append(Event(**{keys[0]: event[keys[0]].strip()}))
        if not events or not introduced:
            chk.bad([*here, "events"], "a range needs at least one 'introduced' event")
        if kind in RANGE_TYPES:
            ranges.append(Range(type=kind, events=events, repo=repo))
    versions = chk.strings(raw, "versions", path)
    severity.extend(s for s in _severities(chk, raw, path) if s not in severity)
    return Affected(ecosystem=ecosystem, name=name, purl=purl, ranges=ranges, versions=versions)
