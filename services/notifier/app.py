"""The notifier service: `uvicorn services.notifier.app:app`."""

from __future__ import annotations

from fastapi import FastAPI

from services.notifier import (
    api_deliveries,
    api_notices,
    api_reports,
    api_stream,
    api_subscriptions,
)
from services.notifier.bootstrap import lifespan
from services.notifier.settings import NotifierSettings
from shared.web.service_app import create_service_app


def create_app(settings: NotifierSettings | None = None) -> FastAPI:
    app = create_service_app(
        name="notifier",
        settings=settings or NotifierSettings(),
        lifespan=lifespan,
        description="Webhooks (Standard Webhooks 1.0) to court and tax systems, notices to "
        "subjects and departments, overdue escalations, the live stream, the monthly report.",
    )
    for module in (api_subscriptions, api_deliveries, api_notices, api_stream, api_reports):
        app.include_router(module.router)
    return app


app = create_app()
