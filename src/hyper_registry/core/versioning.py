"""Version ordering.

Semver kinds order by semantic-version precedence; other kinds order by the time
a version was first registered. Both become a ``version_key`` string whose plain
text order is the version order, so "latest" is one indexed lookup in any database.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import semver

Versioning = Literal["semver", "time"]

_NUM_WIDTH = 12


def semver_problem(version: str) -> str | None:
    try:
        semver.Version.parse(version)
    except (ValueError, TypeError):
        return f"version {version!r} is not a semantic version (MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD])"
    return None


def semver_key(version: str) -> str:
    """A string whose lexical order is semver precedence (build metadata is ignored)."""
    v = semver.Version.parse(version)
    core = ".".join(str(part).zfill(_NUM_WIDTH) for part in (v.major, v.minor, v.patch))
    if not v.prerelease:
        # '~' sorts after every character a pre-release identifier may use.
        return f"s{core}~"
    parts = []
    for ident in v.prerelease.split("."):
        # Numeric identifiers sort below alphanumeric ones and numerically among themselves.
        parts.append(f"0{ident.zfill(_NUM_WIDTH)}" if ident.isdigit() else f"1{ident}")
    return f"s{core}-" + ".".join(parts)


def time_key(created: datetime) -> str:
    return "t" + created.strftime("%Y%m%d%H%M%S%f")


def version_key(versioning: Versioning, version: str, created: datetime) -> str:
    return semver_key(version) if versioning == "semver" else time_key(created)
