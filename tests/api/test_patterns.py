"""The OpenAPI name patterns say exactly what core/ref.py's grammar accepts."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from hyper_registry.api.patterns import KIND_PATTERN, NAME_PATTERN, VERSION_PATTERN
from hyper_registry.core.ref import NAME_MAX, VERSION_MAX, name_problem, version_problem

ALPHABET = "ab9Z._-+/@ \x00é"
texts = st.text(alphabet=ALPHABET, min_size=0, max_size=8)


def _matches(pattern: str, value: str) -> bool:
    return re.fullmatch(pattern, value) is not None


@settings(max_examples=3000, deadline=None)
@given(texts)
def test_name_pattern_is_the_name_grammar(value: str) -> None:
    assert _matches(NAME_PATTERN, value) == (name_problem(value) is None), value


@settings(max_examples=3000, deadline=None)
@given(texts)
def test_version_pattern_is_the_version_grammar(value: str) -> None:
    assert _matches(VERSION_PATTERN, value) == (version_problem(value) is None), value


def test_known_cases() -> None:
    for good in ("a", "a.b", "a-b", "a_b", "a1", "0", "model-v2.1"):
        assert _matches(NAME_PATTERN, good) and name_problem(good) is None, good
    for bad in ("", "..", "a..b", "-a", "a-", ".a", "a.", "A", "a/b", "a b", "a\x00"):
        assert not _matches(NAME_PATTERN, bad) and name_problem(bad) is not None, bad
    assert name_problem("a" * (NAME_MAX + 1)) is not None
    assert version_problem("1" * (VERSION_MAX + 1)) is not None
    assert _matches(KIND_PATTERN, "security") and not _matches(KIND_PATTERN, "9kind")
