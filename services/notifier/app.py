"""The notifier service: `uvicorn services.notifier.app:app`."""

from __future__ import annotations

from fastapi import FastAPI

from services.notifier.bootstrap import lifespan
from services.notifier.settings import NotifierSettings
from shared.web.service_app import create_service_app


def create_app(settings: NotifierSettings | None = None) -> FastAPI:
    return create_service_app(
        name="notifier",
        settings=settings or NotifierSettings(),
        lifespan=lifespan,
        description="Delivers status changes to court and tax systems, subjects, departments.",
    )


app = create_app()
