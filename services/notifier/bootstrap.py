"""Wires the notifier: engine, producer and outbox relay (dead letters; the outbox
port, shared/ports.py's `Outbox`, on Postgres or `wire_memory` for tests), the status
consumer (ingest.py), the dispatcher's lanes (dispatcher.py), the reminder loop
(reminders.py), the secret box and the notice channel. Built in the lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.notifier import reminders, tables
from services.notifier.dispatcher import DeliveryMetrics, Dispatcher
from services.notifier.ingest import CONSUMER, Ingest
from services.notifier.notice_store import PostgresNotices
from services.notifier.secret_box import SecretBox
from services.notifier.settings import NotifierSettings
from shared.adapters import topics
from shared.adapters.db import PostgresTransactions
from shared.adapters.memory import MemoryOutboxStore
from shared.adapters.outbox import PostgresOutbox
from shared.adapters.runtime import ServiceRuntime
from shared.domain.catalogue.index import default_index
from shared.ports import Outbox, Transactions


def wire(app: FastAPI, outbox: Transactions[Outbox]) -> None:
    """The one place the notifier's ports are chosen."""
    app.state.outbox = outbox


def wire_memory(app: FastAPI) -> MemoryOutboxStore:
    store = MemoryOutboxStore()
    wire(app, store)
    return store


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: NotifierSettings = app.state.settings
    box = SecretBox.from_settings(settings)
    app.state.secret_box = box
    async with ServiceRuntime.open(
        app, settings, client_id="jsb-notifier", outbox=tables.outbox
    ) as rt:
        wire(app, PostgresTransactions(rt.engine, lambda c: PostgresOutbox(c, tables.outbox)))
        rt.consume(
            name=CONSUMER,
            group_id=settings.group_id,
            topics=[topics.STATUS + settings.topic_suffix],
            offsets=tables.consumer_offsets,
            handler=Ingest(default_index(), PostgresNotices, settings.topic_suffix),
        )
        dispatcher = Dispatcher(
            rt.engine,
            settings,
            box,
            PostgresNotices,
            DeliveryMetrics(app.state.metrics, app.state.backbone_metrics.webhook_deliveries),
        )
        app.state.dispatcher = dispatcher
        rt.loops.start("dispatcher", dispatcher.run)
        clock = reminders.ShiftedClock(settings.clock_offset_s)

        async def remind(stop: asyncio.Event) -> None:
            await reminders.run(rt.engine, PostgresNotices, clock, settings, stop)

        rt.loops.start("reminders", remind)
        yield
