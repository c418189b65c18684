"""Commands for WASM plugins: push, inspect, run sandboxed."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this domain's commands to the ``hyper-registry`` app."""
