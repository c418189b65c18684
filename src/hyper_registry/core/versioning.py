"""Version ordering.

Semver kinds order by semantic-version precedence; other kinds order by the time
a version was first registered. Both become a ``version_key`` string whose plain
text order is the version order, so "latest" is one indexed lookup in any database.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Literal

import semver

Versioning = Literal["semver", "time"]

_NUM_WIDTH = 20
# Pre-release identifiers are joined with "!", which sorts below every character an
# identifier may hold ("-", digits, letters), so a shorter identifier list sorts first.
_SEP = "!"
# A tie-breaker (the registration time and the position in its batch) follows a space,
# which sorts below "!" and so never changes the order of different versions.
_TIE = " "


def semver_problem(version: str) -> str | None:
    try:
        semver.Version.parse(version)
    except (ValueError, TypeError):
        return f"version {version!r} is not a semantic version (MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD])"
    return None


@lru_cache(maxsize=4096)
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
    return f"s{core}-" + _SEP.join(parts)


def time_key(created: datetime, position: int = 0) -> str:
    return "t" + created.strftime("%Y%m%d%H%M%S%f") + f"{position:06d}"


def version_key_at(versioning: Versioning, version: str, time_prefix: str, position: int) -> str:
    """``version_key`` with ``time_prefix`` = ``time_key(created)[:-6]`` computed once per batch."""
    tk = f"{time_prefix}{position:06d}"
    if versioning == "semver":
        return semver_key(version) + _TIE + tk
    return tk


def version_key(versioning: Versioning, version: str, created: datetime, position: int = 0) -> str:
    """The sort key of a version registered at ``created``, ``position`` in its batch.

    Semver kinds order by precedence; versions of equal precedence (differing only in
    build metadata) and time-ordered kinds order by registration.
    """
    if versioning == "semver":
        return semver_key(version) + _TIE + time_key(created, position)
    return time_key(created, position)
