"""Commands for models and datasets: lineage, comparison, schema evolution, quality, OpenLineage."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this domain's commands to the ``hyper-registry`` app."""
