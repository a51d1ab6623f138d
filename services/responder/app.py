"""The responder service: `uvicorn services.responder.app:app`."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware import Middleware

from services.responder.api import router
from services.responder.bootstrap import lifespan
from services.responder.fast_check import FastCheck
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
    # Innermost of the app's own middlewares (inside the one measuring requests):
    # `add_middleware` would put it outermost.
    app.user_middleware.append(Middleware(FastCheck, owner=app))
    return app


app = create_app()
