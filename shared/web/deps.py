"""FastAPI dependency aliases shared by the services."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.web.auth import Principal, authenticate


async def _engine(request: Request) -> AsyncEngine:
    engine: AsyncEngine = request.app.state.engine
    return engine


CurrentPrincipal = Annotated[Principal, Depends(authenticate)]
EngineDep = Annotated[AsyncEngine, Depends(_engine)]

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]
"""The `Idempotency-Key` header of a mutating call (shared/adapters/idempotency.py)."""
