"""CVSS v2, v3.0, v3.1 and v4.0 scoring through the ``cvss`` library.

Severity bands:

* v3.0, v3.1 and v4.0: the qualitative rating scale of each specification
  (None 0.0, Low 0.1-3.9, Medium 4.0-6.9, High 7.0-8.9, Critical 9.0-10.0).
* v2: the specification defines no rating scale; the ``cvss`` library (like NVD) bands base
  scores as Low 0.0-3.9, Medium 4.0-6.9, High 7.0-10.0. There is no "critical" and no "none"
  for v2: a 10.0 v2 vector is "high", a 0.0 v2 vector is "low".

An advisory's severity is the highest base score among its vectors (v4.0 has one score, the
one its vector determines). When an advisory has no vector at all, a severity word given by
the database (OSV ``database_specific.severity``, e.g. GitHub's HIGH/MODERATE) is used, with
no score. When it has vectors and none parse, the severity is "unknown" and each malformed
vector is reported as a Note.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hyper_registry.core.errors import Invalid
from hyper_registry.kinds.security.parsed import Advisory, Note

CvssVersion = Literal["2.0", "3.0", "3.1", "4.0"]
Rating = Literal["critical", "high", "medium", "low", "none"]
SeverityWord = Literal["critical", "high", "medium", "low", "none", "unknown"]
SEVERITY_ORDER: tuple[SeverityWord, ...] = ("critical", "high", "medium", "low", "none", "unknown")


@dataclass(frozen=True, slots=True)
class CvssScore:
    version: CvssVersion
    vector: str
    base_score: float
    severity: Rating
    temporal_score: float | None = None
    environmental_score: float | None = None


def version_of(vector: str) -> CvssVersion:
    text = vector.strip()
    for prefix, version in (("CVSS:3.0/", "3.0"), ("CVSS:3.1/", "3.1"), ("CVSS:4.0/", "4.0")):
        if text.startswith(prefix):
            return version  # type: ignore[return-value]
    if text.startswith("CVSS:"):
        raise Invalid.at(("vector",), f"unsupported CVSS version in {vector!r}", "bad-cvss")
    return "2.0"


def _rating(word: str) -> Rating:
    lowered = word.strip().lower()
    if lowered not in ("critical", "high", "medium", "low", "none"):
        raise Invalid.at(("vector",), f"unexpected CVSS severity {word!r}", "bad-cvss")
    return lowered  # type: ignore[return-value]


def _opt(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def score(vector: str) -> CvssScore:
    """Score a CVSS vector; Invalid (code ``bad-cvss``) when it is malformed."""
    from cvss import CVSS2, CVSS3, CVSS4, CVSSError  # type: ignore[import-untyped]

    if not isinstance(vector, str) or not vector.strip() or len(vector) > 512:
        raise Invalid.at(("vector",), "a CVSS vector is a non-empty string", "bad-cvss")
    text = vector.strip()
    version = version_of(text)
    try:
        if version == "2.0":
            v2 = CVSS2(text.removeprefix("(").removesuffix(")"))
            scores = v2.scores()
            return CvssScore(
                version,
                text,
                float(scores[0]),
                _rating(v2.severities()[0]),
                _opt(scores[1]),
                _opt(scores[2]),
            )
        if version in ("3.0", "3.1"):
            v3 = CVSS3(text)
            scores = v3.scores()
            return CvssScore(
                version,
                text,
                float(scores[0]),
                _rating(v3.severities()[0]),
                _opt(scores[1]),
                _opt(scores[2]),
            )
        v4 = CVSS4(text)
        return CvssScore(version, text, float(v4.base_score), _rating(v4.severity))
    except CVSSError as exc:
        raise Invalid.at(
            ("vector",), f"malformed CVSS {version} vector {text!r}: {exc}", "bad-cvss"
        ) from None


def advisory_severity(adv: Advisory) -> tuple[float | None, SeverityWord, list[Note]]:
    """(highest base score, its severity, notes) for an advisory; see the module docstring."""
    notes: list[Note] = []
    best: CvssScore | None = None
    vectors = 0
    for index, sev in enumerate(adv.severity):
        if not sev.type.upper().startswith("CVSS"):
            continue
        vectors += 1
        try:
            found = score(sev.vector)
        except Invalid as exc:
            notes.append(Note(where=f"/severity/{index}", message=exc.message, code="bad-cvss"))
            continue
        if best is None or found.base_score > best.base_score:
            best = found
    if best is not None:
        return best.base_score, best.severity, notes
    if vectors == 0 and adv.severity_label in SEVERITY_ORDER:
        return None, adv.severity_label, notes
    return None, "unknown", notes
