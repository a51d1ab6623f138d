"""The initiator service: `uvicorn services.initiator.app:app`."""

from __future__ import annotations

from fastapi import FastAPI

from services.initiator import api, api_batch, api_corrections, api_relief
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
    # The batch route first: `/designations/batch` is not a designation id.
    app.include_router(api_batch.router)
    app.include_router(api.router)
    app.include_router(api_corrections.router)
    app.include_router(api_relief.router)
    return app


app = create_app()
