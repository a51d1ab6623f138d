"""Wires the responder: engine, producer, execution consumer, outbox relay."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.responder import tables
from services.responder.execution import CONSUMER, Execution
from services.responder.settings import ResponderSettings
from shared.adapters import topics
from shared.adapters.runtime import ServiceRuntime


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: ResponderSettings = app.state.settings
    async with ServiceRuntime.open(
        app, settings, client_id="jsb-responder", outbox=tables.outbox
    ) as rt:
        execution = Execution(settings.topic_suffix)
        rt.consume(
            name=CONSUMER,
            group_id=settings.group_id,
            topics=[topics.DESIGNATIONS + settings.topic_suffix],
            offsets=tables.consumer_offsets,
            handler=execution,
        )
        yield
