"""Ecosystem-correct version matching of SBOM components against OSV affected ranges.

Every comparison goes through a version class of ``univers`` (PEP 440 for PyPI comes from
``packaging`` through univers' PypiVersion); nothing here compares version strings by hand.
Ranges are evaluated as the OSV specification says: events sorted by version, a version is
affected from an ``introduced`` up to (not including) the next ``fixed``, or up to and
including the next ``last_affected``; ``limit`` events cap the range; ``introduced: "0"``
means "from the beginning". ``GIT`` ranges name commits, never versions, so they never match.

Callers pre-filter candidates by :func:`component_package` / :func:`affected_package`
(the ``(ecosystem, normalized name)`` pair) and call :func:`match` only on candidates.
Parsed versions and compiled ranges are cached per (scheme, text).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from hyper_registry.kinds.security.parsed import Advisory, Affected, Component, Range

# OSV ecosystem -> (purl type, univers version class name; None: SEMVER ranges only)
_ECOSYSTEMS: dict[str, tuple[str, str | None]] = {
    "PyPI": ("pypi", "PypiVersion"),
    "npm": ("npm", "SemverVersion"),
    "Maven": ("maven", "MavenVersion"),
    "Go": ("golang", "GolangVersion"),
    "crates.io": ("cargo", "SemverVersion"),
    "NuGet": ("nuget", "NugetVersion"),
    "RubyGems": ("gem", "RubygemsVersion"),
    "Debian": ("deb", "DebianVersion"),
    "Ubuntu": ("deb", "DebianVersion"),
    "Alpine": ("apk", "AlpineLinuxVersion"),
    "Wolfi": ("apk", "AlpineLinuxVersion"),
    "Chainguard": ("apk", "AlpineLinuxVersion"),
    "Packagist": ("composer", "ComposerVersion"),
    "Hex": ("hex", "SemverVersion"),
    "Pub": ("pub", "SemverVersion"),
    "SwiftURL": ("swift", "SemverVersion"),
    "Red Hat": ("rpm", "RpmVersion"),
    "Rocky Linux": ("rpm", "RpmVersion"),
    "AlmaLinux": ("rpm", "RpmVersion"),
    "openSUSE": ("rpm", "RpmVersion"),
    "SUSE": ("rpm", "RpmVersion"),
    "ConanCenter": ("conan", "ConanVersion"),
    "Hackage": ("hackage", None),
    "CRAN": ("cran", None),
    "Bitnami": ("bitnami", None),
    "GitHub Actions": ("github", None),
}
_BY_PURL_TYPE: dict[str, str] = {
    "pypi": "PyPI",
    "npm": "npm",
    "maven": "Maven",
    "golang": "Go",
    "cargo": "crates.io",
    "nuget": "NuGet",
    "gem": "RubyGems",
    "deb": "Debian",
    "apk": "Alpine",
    "composer": "Packagist",
    "hex": "Hex",
    "pub": "Pub",
    "swift": "SwiftURL",
    "conan": "ConanCenter",
    "hackage": "Hackage",
    "cran": "CRAN",
    "bitnami": "Bitnami",
    "github": "GitHub Actions",
}
# purl namespace that picks another ecosystem for a shared purl type
_BY_PURL_NAMESPACE: dict[tuple[str, str], str] = {
    ("deb", "ubuntu"): "Ubuntu",
    ("apk", "wolfi"): "Wolfi",
    ("apk", "chainguard"): "Chainguard",
    ("rpm", "redhat"): "Red Hat",
    ("rpm", "rocky-linux"): "Rocky Linux",
    ("rpm", "almalinux"): "AlmaLinux",
    ("rpm", "opensuse"): "openSUSE",
    ("rpm", "suse"): "SUSE",
}
SEMVER_CLASS = "SemverVersion"
"""OSV ``SEMVER`` ranges use Semantic Versioning 2.0 whatever the ecosystem."""


def base_ecosystem(ecosystem: str) -> str:
    """``Debian:11`` -> ``Debian``; ``Alpine:v3.16`` -> ``Alpine``; others unchanged."""
    return ecosystem.split(":", 1)[0].strip()


def ecosystem_for_purl_type(purl_type: str, namespace: str | None = None) -> str | None:
    """The OSV ecosystem of a purl type (``pypi`` -> ``PyPI``), or None when unknown."""
    t = purl_type.lower()
    if namespace:
        special = _BY_PURL_NAMESPACE.get((t, namespace.lower()))
        if special:
            return special
    return _BY_PURL_TYPE.get(t)


def purl_type_for_ecosystem(ecosystem: str) -> str | None:
    """The purl type of an OSV ecosystem (``crates.io`` -> ``cargo``), or None when unknown."""
    found = _ECOSYSTEMS.get(base_ecosystem(ecosystem))
    return found[0] if found else None


def supported_ecosystems() -> list[str]:
    return sorted(_ECOSYSTEMS)


def normalize_name(ecosystem: str, name: str) -> str:
    """A package name as the ecosystem compares it (PyPI PEP 503, case-insensitive NuGet...)."""
    eco = base_ecosystem(ecosystem)
    if eco == "PyPI":
        from packaging.utils import canonicalize_name

        return str(canonicalize_name(name))
    if eco in ("NuGet", "Packagist", "npm", "Hex", "Pub", "crates.io"):
        return name.lower()
    return name


def _purl_package_name(purl_type: str, namespace: str | None, name: str) -> str:
    if not namespace:
        return name
    if purl_type == "maven":
        return f"{namespace}:{name}"
    if purl_type in ("deb", "apk", "rpm"):
        return name  # the namespace is the distribution
    return f"{namespace}/{name}"


def component_package(component: Component) -> tuple[str, str] | None:
    """``(ecosystem, normalized name)`` of a component with a valid purl; None otherwise."""
    if not component.matchable or not component.purl_type or not component.purl_name:
        return None
    eco = ecosystem_for_purl_type(component.purl_type, component.purl_namespace)
    if eco is None:
        return None
    name = _purl_package_name(component.purl_type, component.purl_namespace, component.purl_name)
    return eco, normalize_name(eco, name)


def affected_package(affected: Affected) -> tuple[str, str] | None:
    """``(ecosystem, normalized name)`` of an OSV affected package (base ecosystem)."""
    if affected.ecosystem and affected.name:
        eco = base_ecosystem(affected.ecosystem)
        return eco, normalize_name(eco, affected.name)
    if affected.purl:
        return _purl_package(affected.purl)
    return None


@lru_cache(maxsize=4096)
def _purl_package(purl: str) -> tuple[str, str] | None:
    from packageurl import PackageURL

    try:
        parsed = PackageURL.from_string(purl)
    except ValueError:
        return None
    eco = ecosystem_for_purl_type(parsed.type, parsed.namespace)
    if eco is None:
        return None
    return eco, normalize_name(eco, _purl_package_name(parsed.type, parsed.namespace, parsed.name))


@dataclass(frozen=True, slots=True)
class Match:
    """Why a component is affected: the range (or version list) that matched, the fix if any."""

    reason: Literal["range", "version-list", "sbom-reference"]
    range: str
    fixed: str | None
    ecosystem: str | None
    detail: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """The full answer of :func:`explain`: affected or not, and why."""

    affected: bool
    match: Match | None
    reason: str


# --- version parsing ------------------------------------------------------------------


def _version_class(name: str) -> Any:
    from univers import versions

    return getattr(versions, name)


_OWN_ORDER = frozenset({"AlpineLinuxVersion"})
"""univers classes whose ordering lives on the Version object (Gentoo-style vercmp); for the
others the ordering is that of their ``value`` (attrs-generated), compared directly."""


@lru_cache(maxsize=65536)
def _parse(cls_name: str, text: str) -> Any:
    """A comparable form of a univers version (its ``value``, or the version itself for
    classes that order themselves), or None when the text is not valid in that scheme."""
    try:
        version = _version_class(cls_name)(text)
    except Exception:  # univers raises many kinds on hostile text; all mean "not valid"
        return None
    return version if cls_name in _OWN_ORDER else version.value


def _lt(a: Any, b: Any) -> bool:
    return bool(a < b)


@dataclass(frozen=True, slots=True)
class _Interval:
    low: Any | None  # None: from the beginning
    high: Any | None  # None: no upper bound
    high_inclusive: bool
    text: str
    fixed: str | None

    def contains(self, version: Any) -> bool:
        if self.low is not None and _lt(version, self.low):
            return False
        if self.high is None:
            return True
        if self.high_inclusive:
            return not _lt(self.high, version)
        return _lt(version, self.high)


@dataclass(frozen=True, slots=True)
class _Compiled:
    intervals: tuple[_Interval, ...]
    limits: tuple[Any, ...]
    error: str | None


EventKey = tuple[str | None, str | None, str | None, str | None]


@lru_cache(maxsize=65536)
def _compile(cls_name: str, events: tuple[EventKey, ...]) -> _Compiled:
    """Turn OSV events into disjoint intervals of parsed versions (cached per scheme+events)."""
    from functools import cmp_to_key

    parsed: list[tuple[Any, str, str]] = []  # (version or None for "0", kind, text)
    limits: list[Any] = []
    for introduced, fixed, last_affected, limit in events:
        kind, text = next(
            (k, t)
            for k, t in (
                ("introduced", introduced),
                ("fixed", fixed),
                ("last_affected", last_affected),
                ("limit", limit),
            )
            if t is not None
        )
        if kind == "introduced" and text == "0":
            parsed.append((None, kind, text))
            continue
        if kind == "limit" and text == "*":
            continue
        version = _parse(cls_name, text)
        if version is None:
            return _Compiled((), (), f"range event {kind}={text!r} is not a valid version")
        if kind == "limit":
            limits.append(version)
        else:
            parsed.append((version, kind, text))

    def order(a: tuple[Any, str, str], b: tuple[Any, str, str]) -> int:
        if a[0] is None or b[0] is None:
            return (a[0] is not None) - (b[0] is not None)
        return -1 if _lt(a[0], b[0]) else (1 if _lt(b[0], a[0]) else 0)

    intervals: list[_Interval] = []
    low: Any | None = None
    low_text: str | None = None
    open_ = False
    for version, kind, text in sorted(parsed, key=cmp_to_key(order)):
        if kind == "introduced":
            if not open_:
                open_, low, low_text = True, version, text
        elif open_:
            lower = [] if low is None else [f">={low_text}"]
            if kind == "fixed":
                intervals.append(
                    _Interval(low, version, False, ", ".join([*lower, f"<{text}"]), text)
                )
            else:
                intervals.append(
                    _Interval(low, version, True, ", ".join([*lower, f"<={text}"]), None)
                )
            open_ = False
    if open_:
        intervals.append(
            _Interval(
                low, None, False, f">={low_text}" if low is not None else "all versions", None
            )
        )
    return _Compiled(tuple(intervals), tuple(limits), None)


@lru_cache(maxsize=8192)
def _version_set(cls_name: str, versions: tuple[str, ...]) -> tuple[Any, ...]:
    """The parsed forms of an explicit versions list (compared with ==; not all are hashable)."""
    return tuple(p for p in (_parse(cls_name, text) for text in versions) if p is not None)


def _event_key(rng: Range) -> tuple[EventKey, ...]:
    return tuple((e.introduced, e.fixed, e.last_affected, e.limit) for e in rng.events)


# --- matching ---------------------------------------------------------------------------


def explain(component: Component, affected: Affected) -> Verdict:
    """Whether ``component`` is affected by ``affected`` (one OSV affected package), and why."""
    if (
        affected.ref is not None
        and affected.ref == component.key
        and (not affected.versions or component.version in affected.versions)
    ):
        match = Match(
            "sbom-reference",
            "affects " + affected.ref,
            None,
            None,
            "the SBOM's own vulnerability record names this component",
        )
        return Verdict(True, match, match.detail)
    package = component_package(component)
    target = affected_package(affected)
    if package is None:
        why = (
            "component has no valid purl"
            if not component.matchable
            else "component ecosystem not supported"
        )
        return Verdict(False, None, why)
    if target is None:
        return Verdict(False, None, "advisory package has no known ecosystem and name")
    if package != target:
        return Verdict(
            False, None, f"different package ({package[0]}:{package[1]} vs {target[0]}:{target[1]})"
        )
    if not component.version:
        return Verdict(False, None, "component has no version")
    ecosystem = package[0]
    eco_class = _ECOSYSTEMS.get(ecosystem, (None, None))[1]
    reasons: list[str] = []
    for rng in affected.ranges:
        if rng.type == "GIT":
            reasons.append("GIT ranges name commits and are not matched")
            continue
        cls_name = (
            eco_class
            if rng.type == "ECOSYSTEM" or eco_class in ("GolangVersion", SEMVER_CLASS)
            else SEMVER_CLASS
        )
        if cls_name is None:
            reasons.append(f"no version rules for ecosystem {ecosystem!r}")
            continue
        version = _parse(cls_name, component.version)
        if version is None:
            reasons.append(f"version {component.version!r} is not a valid {ecosystem} version")
            continue
        compiled = _compile(cls_name, _event_key(rng))
        if compiled.error:
            reasons.append(compiled.error)
            continue
        if compiled.limits and not any(_lt(version, lim) for lim in compiled.limits):
            reasons.append("version is at or above the range limit")
            continue
        for interval in compiled.intervals:
            if interval.contains(version):
                text = f"{rng.type} {interval.text}"
                detail = f"{component.version} is in {text}" + (
                    f"; fixed in {interval.fixed}" if interval.fixed else "; no fix in this range"
                )
                return Verdict(
                    True, Match("range", text, interval.fixed, ecosystem, detail), detail
                )
        reasons.append(f"{component.version} is outside {rng.type} range")
    if affected.versions:
        if component.version in affected.versions:
            hit = True
        else:
            cls_name = eco_class or SEMVER_CLASS
            version = _parse(cls_name, component.version)
            hit = version is not None and version in _version_set(
                cls_name, tuple(affected.versions)
            )
        if hit:
            detail = f"{component.version} is listed in the advisory's affected versions"
            return Verdict(
                True, Match("version-list", "versions list", None, ecosystem, detail), detail
            )
        reasons.append(f"{component.version} is not in the affected versions list")
    if not reasons:
        reasons.append("the advisory lists no ranges or versions for this package")
    return Verdict(False, None, "; ".join(reasons))


def match(component: Component, affected: Affected) -> Match | None:
    """The :class:`Match` when ``component`` is affected, else None (see :func:`explain`)."""
    return explain(component, affected).match


def match_any(component: Component, affected: Sequence[Affected]) -> Match | None:
    """The first match among an advisory's affected packages."""
    for entry in affected:
        found = explain(component, entry).match
        if found is not None:
            return found
    return None


def explain_advisory(component: Component, advisory: Advisory) -> Verdict:
    """:func:`explain` over all affected packages of an advisory; a withdrawn advisory never
    matches (and says so)."""
    if advisory.withdrawn:
        return Verdict(False, None, f"advisory {advisory.id} was withdrawn on {advisory.withdrawn}")
    reasons: list[str] = []
    for entry in advisory.affected:
        verdict = explain(component, entry)
        if verdict.affected:
            return verdict
        reasons.append(verdict.reason)
    return Verdict(
        False, None, "; ".join(dict.fromkeys(reasons)) or "the advisory names no package"
    )
