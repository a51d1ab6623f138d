"""Wires the notifier: engine and producer (subscriptions and deliveries come with their issue)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.notifier import tables
from services.notifier.settings import NotifierSettings
from shared.adapters.runtime import ServiceRuntime


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: NotifierSettings = app.state.settings
    async with ServiceRuntime.open(app, settings, client_id="jsb-notifier", outbox=tables.outbox):
        yield
