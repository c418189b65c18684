"""Routes for SBOMs, advisories, findings, VEX and vulnerability impact."""

from __future__ import annotations

from fastapi import APIRouter

from hyper_registry.core.settings import Settings


def router(settings: Settings) -> APIRouter:
    return APIRouter()
