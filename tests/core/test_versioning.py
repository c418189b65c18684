"""Version order: semver precedence for semver kinds, registration time for the others."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import semver
from hypothesis import given, settings
from hypothesis import strategies as st

from hyper_registry.core.versioning import semver_key, semver_problem, time_key, version_key

# Precedence examples of the semver 2.0.0 specification (section 11), lowest first.
SPEC_ORDER = [
    "1.0.0-alpha",
    "1.0.0-alpha.1",
    "1.0.0-alpha.beta",
    "1.0.0-beta",
    "1.0.0-beta.2",
    "1.0.0-beta.11",
    "1.0.0-rc.1",
    "1.0.0",
    "1.9.0",
    "1.10.0",
    "1.10.1",
    "2.0.0-0",
    "2.0.0",
    "10.0.0",
]


def _sign(n: int) -> int:
    return (n > 0) - (n < 0)


def test_keys_follow_semver_precedence() -> None:
    keys = [semver_key(v) for v in SPEC_ORDER]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)


@pytest.mark.parametrize(
    ("lower", "higher"),
    [
        ("1.9.0", "1.10.0"),
        ("1.0.0-rc.1", "1.0.0"),
        ("1.0.0-2", "1.0.0-10"),
        ("1.0.0-10", "1.0.0-alpha"),
        ("1.0.0-Z", "1.0.0-a"),
        ("0.9.9", "1.0.0-alpha"),
        ("1.99.99", "2.0.0-alpha"),
    ],
)
def test_pairs(lower: str, higher: str) -> None:
    assert semver_key(lower) < semver_key(higher)


def test_build_metadata_has_no_precedence() -> None:
    assert semver_key("1.0.0+build.1") == semver_key("1.0.0+build.2") == semver_key("1.0.0")


_ident = st.one_of(
    st.integers(0, 10**6).map(str),
    st.text("abcxyzABCXYZ019", min_size=1, max_size=6).filter(lambda s: not s.isdigit()),
)
_versions = st.builds(
    lambda ma, mi, pa, pre: f"{ma}.{mi}.{pa}" + (f"-{'.'.join(pre)}" if pre else ""),
    st.integers(0, 10**6),
    st.integers(0, 10**6),
    st.integers(0, 10**6),
    st.lists(_ident, max_size=3),
)


@settings(deadline=None)  # no timing: CI machines are shared
@given(a=_versions, b=_versions)
def test_key_order_is_semver_order(a: str, b: str) -> None:
    """Identifiers of letters and digits (hyphens inside identifiers: see the test below)."""
    expected = semver.Version.parse(a).compare(b)
    assert _sign((semver_key(a) > semver_key(b)) - (semver_key(a) < semver_key(b))) == expected


@pytest.mark.parametrize(
    ("lower", "higher"),
    [("1.0.0-alpha.1", "1.0.0-alpha-b"), ("1.0.0-x.y", "1.0.0-x-y"), ("1.0.0-rc.9", "1.0.0-rc-2")],
)
def test_hyphenated_identifiers_order_after_their_prefix(lower: str, higher: str) -> None:
    assert semver.Version.parse(lower).compare(higher) == -1  # what semver says
    assert semver_key(lower) < semver_key(higher)


@pytest.mark.parametrize("version", ["1.0.0", "0.0.1-rc.1", "1.2.3-beta.4+build.5", "10.20.30"])
def test_semver_problem_accepts(version: str) -> None:
    assert semver_problem(version) is None


@pytest.mark.parametrize("version", ["1.0", "v1.0.0", "1.0.0.0", "01.0.0", "2026-09", "latest"])
def test_semver_problem_refuses(version: str) -> None:
    problem = semver_problem(version)
    assert problem is not None
    assert version in problem


def test_time_keys_follow_time() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    keys = [time_key(t0 + timedelta(microseconds=n)) for n in (0, 1, 999_999, 10**7)]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)


def test_version_key_dispatches_on_versioning() -> None:
    when = datetime(2026, 3, 1, tzinfo=UTC)
    assert version_key("semver", "1.2.3", when).startswith(semver_key("1.2.3") + " ")
    assert version_key("time", "anything", when) == time_key(when)
    assert version_key("time", "anything", when, 3) == time_key(when, 3) > time_key(when)
    # Equal precedence (build metadata differs): the later registration sorts higher.
    later = datetime(2026, 3, 2, tzinfo=UTC)
    assert version_key("semver", "1.2.3+b", later) > version_key("semver", "1.2.3+a", when)
    # ...but never above a higher version registered earlier.
    assert version_key("semver", "1.2.4", when) > version_key("semver", "1.2.3+b", later)
    # Semver keys and time keys never interleave (different leading letter).
    assert version_key("semver", "1.0.0", when)[0] != version_key("time", "1.0.0", when)[0]
