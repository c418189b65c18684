"""``hyper_registry.api.server.run`` starts uvicorn with one worker on the app."""

from __future__ import annotations

from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI

from hyper_registry import Registry
from hyper_registry.api import server


def test_run_starts_uvicorn_with_one_worker(reg: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def fake_run(app: Any, **kwargs: Any) -> None:
        seen["app"] = app
        seen.update(kwargs)

    monkeypatch.setattr(uvicorn, "run", fake_run)
    server.run(reg, host="127.0.0.1", port=9999)
    assert isinstance(seen["app"], FastAPI)
    assert seen["app"].state.registry is reg
    assert (seen["host"], seen["port"], seen["workers"]) == ("127.0.0.1", 9999, 1)
