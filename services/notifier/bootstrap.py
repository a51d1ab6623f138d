"""Wires the notifier: engine, producer and outbox relay (dead letters; the outbox
port, shared/ports.py's `Outbox`), the webhook side's ports (ports.py's
`WebhookStore` and Idempotency-Key answers, on Postgres or `wire_memory` for tests),
the status consumer (ingest.py), the dispatcher's lanes (dispatcher.py), the
reminder loop (reminders.py), the disable sweep (disable_sweep.py), the secret box
and the notice channel. Built in the lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial

from fastapi import FastAPI

from services.notifier import disable_sweep, reminders, tables
from services.notifier.dispatcher import DeliveryMetrics, Dispatcher
from services.notifier.ingest import CONSUMER, Ingest
from services.notifier.memory import MemoryWebhookStore
from services.notifier.ports import Webhooks, WebhookStore
from services.notifier.secret_box import SecretBox
from services.notifier.settings import NotifierSettings
from services.notifier.webhook_store import PostgresWebhooks
from shared.adapters import topics
from shared.adapters.consumer import TransactionalConsumer
from shared.adapters.db import PostgresTransactions
from shared.adapters.idempotency import PostgresIdempotency
from shared.adapters.memory import MemoryIdempotency, MemoryOutboxStore
from shared.adapters.outbox import PostgresOutbox
from shared.adapters.runtime import ServiceRuntime
from shared.domain.catalogue.index import default_index
from shared.ports import IdempotencyStore, Outbox, Transactions


def wire(
    app: FastAPI,
    outbox: Transactions[Outbox],
    webhooks: WebhookStore,
    idempotency: IdempotencyStore[Webhooks],
) -> None:
    """The one place the notifier's ports are chosen."""
    app.state.outbox = outbox
    app.state.webhooks = webhooks
    app.state.idempotency = idempotency


@dataclass(frozen=True)
class MemoryPorts:
    outbox: MemoryOutboxStore
    webhooks: MemoryWebhookStore


def wire_memory(app: FastAPI) -> MemoryPorts:
    """In-memory ports (no Postgres): what the service-layer unit tests run on."""
    ports = MemoryPorts(MemoryOutboxStore(), MemoryWebhookStore())
    wire(app, ports.outbox, ports.webhooks, MemoryIdempotency(ports.webhooks.begin))
    return ports


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: NotifierSettings = app.state.settings
    box = SecretBox.from_settings(settings)
    app.state.secret_box = box
    async with ServiceRuntime.open(
        app, settings, client_id="jsb-notifier", outbox=tables.outbox
    ) as rt:
        _start(app, settings, box, rt)
        yield


def _start(app: FastAPI, settings: NotifierSettings, box: SecretBox, rt: ServiceRuntime) -> None:
    """The ports, the status consumer, the dispatcher, the reminder loop and the
    disable sweep."""
    webhooks = PostgresTransactions(rt.engine, PostgresWebhooks.on)
    wire(
        app,
        PostgresTransactions(rt.engine, lambda c: PostgresOutbox(c, tables.outbox)),
        webhooks,
        PostgresIdempotency(rt.engine, tables.idempotency, PostgresWebhooks.on),
    )
    rt.consume(
        name=CONSUMER,
        group_id=settings.group_id,
        topics=[topics.STATUS + settings.topic_suffix],
        offsets=tables.consumer_offsets,
        handler=Ingest(default_index(), PostgresWebhooks.on, settings.topic_suffix),
        consumer_factory=partial(
            TransactionalConsumer,
            fetch={
                "fetch_min_bytes": settings.fetch_min_bytes,
                "fetch_max_wait_ms": settings.fetch_max_wait_ms,
            },
        ),
    )
    dispatcher = Dispatcher(
        webhooks,
        settings,
        box,
        DeliveryMetrics(app.state.metrics, app.state.backbone_metrics.webhook_deliveries),
    )
    app.state.dispatcher = dispatcher
    rt.loops.start("dispatcher", dispatcher.run)
    clock = reminders.ShiftedClock(settings.clock_offset_s)

    async def remind(stop: asyncio.Event) -> None:
        await reminders.run(webhooks, clock, settings, stop)

    rt.loops.start("reminders", remind)

    async def sweep(stop: asyncio.Event) -> None:
        wall = reminders.ShiftedClock()  # streaks are recorded on the wall clock
        await disable_sweep.run(webhooks, wall, settings, dispatcher.metrics.disabled, stop)

    rt.loops.start("disable-sweep", sweep)
