"""Routes for service health checks, SLA availability and topology."""

from __future__ import annotations

from fastapi import APIRouter

from hyper_registry.core.settings import Settings


def router(settings: Settings) -> APIRouter:
    return APIRouter()
