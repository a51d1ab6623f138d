"""Wires the ledger: engine, producer, ingest consumer, outbox relay."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.ledger import tables
from services.ledger.ingest import CONSUMER, Ingest
from services.ledger.settings import LedgerSettings
from shared.adapters import topics
from shared.adapters.runtime import ServiceRuntime


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: LedgerSettings = app.state.settings
    async with ServiceRuntime.open(
        app, settings, client_id="jsb-ledger", outbox=tables.outbox
    ) as rt:
        ingest = Ingest(settings.topic_suffix, app.state.metrics)
        app.state.ingest = ingest
        rt.consume(
            name=CONSUMER,
            group_id=settings.group_id,
            topics=[
                topics.DESIGNATIONS + settings.topic_suffix,
                topics.FEEDBACK + settings.topic_suffix,
            ],
            offsets=tables.consumer_offsets,
            handler=ingest,
        )
        yield
