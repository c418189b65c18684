"""Routes for stream and bulk ingestion, dead letters, workers."""

from __future__ import annotations

from fastapi import APIRouter

from hyper_registry.core.settings import Settings


def router(settings: Settings) -> APIRouter:
    return APIRouter()
