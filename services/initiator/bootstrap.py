"""Wires the initiator: catalogue, engine, producer, outbox relay."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.initiator import tables
from services.initiator.settings import InitiatorSettings
from shared.adapters.runtime import ServiceRuntime
from shared.domain.catalogue.index import default_index


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: InitiatorSettings = app.state.settings
    app.state.catalogue = default_index()
    async with ServiceRuntime.open(app, settings, client_id="jsb-initiator", outbox=tables.outbox):
        yield
