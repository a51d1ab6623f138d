"""Wires the notifier: engine and producer, and its one port so far — the outbox it
will write deliveries and notices to (shared/ports.py's `Outbox`, on Postgres;
`wire_memory` for tests). Subscriptions and deliveries come with their issue, built
on these ports like the other services' service layers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.notifier import tables
from services.notifier.settings import NotifierSettings
from shared.adapters.db import PostgresTransactions
from shared.adapters.memory import MemoryOutboxStore
from shared.adapters.outbox import PostgresOutbox
from shared.adapters.runtime import ServiceRuntime
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
    async with ServiceRuntime.open(
        app, settings, client_id="jsb-notifier", outbox=tables.outbox
    ) as rt:
        wire(app, PostgresTransactions(rt.engine, lambda c: PostgresOutbox(c, tables.outbox)))
        yield
