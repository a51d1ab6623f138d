"""The responder service: `uvicorn services.responder.app:app`."""

from __future__ import annotations

from fastapi import FastAPI

from services.responder.api import router
from services.responder.bootstrap import lifespan
from services.responder.settings import ResponderSettings
from shared.web.service_app import create_service_app


def create_app(settings: ResponderSettings | None = None) -> FastAPI:
    app = create_service_app(
        name="responder",
        settings=settings or ResponderSettings(),
        lifespan=lifespan,
        description="A responding department's execution, interception and feedback.",
    )
    app.include_router(router)
    return app


app = create_app()
