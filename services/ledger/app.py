"""The ledger service: `uvicorn services.ledger.app:app`."""

from __future__ import annotations

from fastapi import FastAPI

from services.ledger import api_dashboard
from services.ledger.api import router
from services.ledger.bootstrap import lifespan
from services.ledger.settings import LedgerSettings
from shared.web.service_app import create_service_app


def create_app(settings: LedgerSettings | None = None) -> FastAPI:
    app = create_service_app(
        name="ledger",
        settings=settings or LedgerSettings(),
        lifespan=lifespan,
        description="The append-only record of every event, and every read model.",
    )
    app.include_router(router)
    app.include_router(api_dashboard.router)
    app.include_router(api_dashboard.page)
    return app


app = create_app()
