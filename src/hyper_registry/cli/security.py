"""Commands for SBOMs, advisories, findings, VEX and vulnerability impact."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this domain's commands to the ``hyper-registry`` app."""
