"""Fixtures of the infra tests: the real templates copied into tests/fixtures/infra."""

from __future__ import annotations

from pathlib import Path

import pytest

from hyper_registry.kinds.infra.archives import read_path

FIXTURES = Path(__file__).parents[2] / "fixtures" / "infra"


def files_of(rel: str) -> dict[str, str]:
    return read_path(FIXTURES / rel).files


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES
