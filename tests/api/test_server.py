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


def test_request_telemetry_is_off_unless_asked_for(tmp_path: Any) -> None:
    """FastAPI's native OpenTelemetry looks up the providers on every request; the app
    turns it off unless ``HYPER_REGISTRY_OTEL`` asks for it."""
    from hyper_registry import Settings
    from hyper_registry.api.app import create_app

    for otel in (False, True):
        with Registry.open(Settings(data_dir=tmp_path / str(otel), otel=otel)) as reg:
            app = create_app(reg)
            config = app._telemetry  # FastAPI's resolved telemetry configuration
            assert config["tracing"] is otel and config["metrics"] is otel
            assert app._native_telemetry.enabled() is False  # no provider configured here
            # With telemetry on, no request skips the routes (and their spans).
            layers = [m.cls.__name__ for m in app.user_middleware]  # type: ignore[attr-defined]
            assert ("EntryFastPath" in layers) is not otel
