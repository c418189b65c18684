"""Fixtures of the health checker tests: a real loopback server and checker settings."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .servers import HealthServer

# Sub-second intervals through the test-only setting (the spec's minimum is 5 s).
FAST: dict[str, Any] = {
    "checker_allow_loopback": True,
    "checker_test_interval": 0.2,
    "checker_tick_seconds": 0.05,
}


@pytest.fixture
def server() -> Iterator[HealthServer]:
    srv = HealthServer()
    try:
        yield srv
    finally:
        srv.close()


def wait_for(condition: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    """Poll until ``condition()`` is truthy (a logic wait with a generous bound, not a timing)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.02)


def service_doc(
    name: str,
    endpoint: str,
    *,
    path: str | None = "/ok",
    namespace: str = "shop",
    version: str = "1.0.0",
    protocol: str | None = None,
    calls: list[str] | None = None,
    sla: float | None = 99.9,
) -> dict[str, Any]:
    check: dict[str, Any] = {"interval": "5s", "timeout": "1s"}
    if path is not None:
        check["path"] = path
    if protocol is not None:
        check["protocol"] = protocol
    spec: dict[str, Any] = {"endpoints": [endpoint], "healthCheck": check}
    if sla is not None:
        spec["sla"] = {"availability": sla}
    if calls:
        spec["calls"] = calls
    return {
        "apiVersion": "hyper-registry/v1",
        "kind": "service",
        "metadata": {"namespace": namespace, "name": name, "version": version},
        "spec": spec,
    }
