"""Advisory identifiers and the light shape check of CVSS vectors.

Real CVSS scoring comes later; here a vector is only checked to look like one.
"""

from __future__ import annotations

import re

ADVISORY_ID_MAX = 128

_CVE = re.compile(r"CVE-\d{4}-\d{4,}")
_GHSA = re.compile(r"GHSA(?:-[23456789cfghjmpqrvwx]{4}){3}")
_OSV = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9][A-Za-z0-9._:]*)+")

_METRIC = re.compile(r"([A-Za-z]+):([A-Za-z0-9]+)")
CVSS_VERSIONS = ("2.0", "3.0", "3.1", "4.0")
_BASE_METRICS: dict[str, tuple[str, ...]] = {
    "2.0": ("AV", "AC", "Au", "C", "I", "A"),
    "3.0": ("AV", "AC", "PR", "UI", "S", "C", "I", "A"),
    "3.1": ("AV", "AC", "PR", "UI", "S", "C", "I", "A"),
    "4.0": ("AV", "AC", "AT", "PR", "UI", "VC", "VI", "VA", "SC", "SI", "SA"),
}


def advisory_id_problem(value: str, what: str = "id") -> str | None:
    """Why ``value`` is not a CVE, GHSA or OSV-style advisory id, or None when it is one."""
    if len(value) > ADVISORY_ID_MAX:
        return f"{what} is longer than {ADVISORY_ID_MAX} characters"
    if value.upper().startswith("CVE-"):
        if not _CVE.fullmatch(value):
            return f"{what} {value!r} is not a CVE id (CVE-YYYY-NNNN, four or more digits)"
        return None
    if value.upper().startswith("GHSA-"):
        if not _GHSA.fullmatch(value):
            return f"{what} {value!r} is not a GHSA id (GHSA-xxxx-xxxx-xxxx, lowercase)"
        return None
    if not _OSV.fullmatch(value):
        return (
            f"{what} {value!r} is not an advisory id: use a CVE id (CVE-2021-44228), a GHSA id "
            "(GHSA-jfh8-c2jp-5v3q) or an OSV id (PYSEC-2021-1, RUSTSEC-2021-0001, GO-2022-0001)"
        )
    return None


def cvss_version(vector: str) -> str:
    """The CVSS version a vector is written in ("2.0", "3.0", "3.1" or "4.0").

    Raises ``ValueError`` with the reason when the vector does not have the shape of one.
    """
    text = vector.strip()
    if text.startswith("CVSS:"):
        version, _, body = text[5:].partition("/")
        if version not in CVSS_VERSIONS:
            raise ValueError(f"has version {version!r}; known versions: {', '.join(CVSS_VERSIONS)}")
    else:
        version = "2.0"
        body = text[1:-1] if text.startswith("(") and text.endswith(")") else text
    keys: list[str] = []
    for part in body.split("/"):
        match = _METRIC.fullmatch(part)
        if match is None:
            raise ValueError(f"has a part {part!r} that is not METRIC:VALUE")
        if match[1] in keys:
            raise ValueError(f"gives metric {match[1]} twice")
        keys.append(match[1])
    missing = [k for k in _BASE_METRICS[version] if k not in keys]
    if missing:
        raise ValueError(f"lacks the CVSS {version} base metrics {', '.join(missing)}")
    return version
