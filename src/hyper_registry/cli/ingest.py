"""Commands for stream and bulk ingestion, dead letters, workers."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this domain's commands to the ``hyper-registry`` app."""
