"""The initiator service: `uvicorn services.initiator.app:app`."""

from __future__ import annotations

from fastapi import FastAPI

from services.initiator.api import router
from services.initiator.bootstrap import lifespan
from services.initiator.settings import InitiatorSettings
from shared.web.service_app import create_service_app


def create_app(settings: InitiatorSettings | None = None) -> FastAPI:
    app = create_service_app(
        name="initiator",
        settings=settings or InitiatorSettings(),
        lifespan=lifespan,
        description="Initiating departments designate subjects onto lists (发起).",
    )
    app.include_router(router)
    return app


app = create_app()
