"""Routes for models and datasets: lineage, comparison, schema evolution, quality, OpenLineage."""

from __future__ import annotations

from fastapi import APIRouter

from hyper_registry.core.settings import Settings


def router(settings: Settings) -> APIRouter:
    return APIRouter()
