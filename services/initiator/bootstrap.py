"""Wires the initiator: catalogue, engine, producer, the ports of the service layer
(streams and Idempotency-Key answers on Postgres, the ledger client for the
cross-check — `wire` in memory for tests), the outbox relay (after its crash
recovery) and the timer loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from services.initiator import handlers, tables
from services.initiator.ledger_client import LedgerCrossCheck, ops_token
from services.initiator.memory import MemoryLedgerStatus, MemoryStreamStore
from services.initiator.ports import LedgerStatus, StreamStore, SubjectStreams
from services.initiator.relay_recovery import mark_already_published
from services.initiator.repository import PostgresSubjectStreams
from services.initiator.settings import InitiatorSettings
from services.initiator.timer_loop import TimerLoop
from shared.adapters.db import PostgresTransactions
from shared.adapters.idempotency import PostgresIdempotency
from shared.adapters.memory import MemoryIdempotency
from shared.adapters.runtime import ServiceRuntime
from shared.domain.catalogue.index import default_index
from shared.ports import IdempotencyStore

log = logging.getLogger(__name__)


def wire(
    app: FastAPI,
    streams: StreamStore,
    idempotency: IdempotencyStore[SubjectStreams],
    ledger: LedgerStatus,
) -> None:
    """The one place the service layer's ports are chosen."""
    app.state.streams = streams
    app.state.idempotency = idempotency
    app.state.ledger = ledger


def wire_postgres(app: FastAPI, engine: AsyncEngine, ledger: LedgerStatus) -> None:
    wire(
        app,
        PostgresTransactions(engine, PostgresSubjectStreams),
        PostgresIdempotency(engine, tables.idempotency, PostgresSubjectStreams),
        ledger,
    )


def wire_memory(app: FastAPI, ledger: LedgerStatus | None = None) -> MemoryStreamStore:
    """In-memory ports (no Postgres): what the service-layer unit tests run on."""
    store = MemoryStreamStore()
    wire(app, store, MemoryIdempotency(store.begin), ledger or MemoryLedgerStatus())
    return store


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: InitiatorSettings = app.state.settings
    app.state.catalogue = catalogue = default_index()
    ledger = LedgerCrossCheck(
        settings.ledger_url,
        settings.ledger_token or ops_token(settings.tokens_file),
        settings.ledger_timeout_s,
    )

    async def recover_outbox(rt: ServiceRuntime, stop: asyncio.Event) -> bool:
        """Before the relay publishes: rows a crashed relay already published are
        marked so (relay_recovery.py); retried until it succeeds or the service stops."""
        while not stop.is_set():
            try:
                await mark_already_published(
                    rt.engine,
                    tables.outbox,
                    settings.kafka_bootstrap_servers,
                    window=settings.batch_size,
                )
                return True
            except Exception as exc:
                log.warning("outbox recovery failed (%s); retrying", type(exc).__name__)
                await asyncio.sleep(1.0)
        return False

    async with ServiceRuntime.open(
        app,
        settings,
        client_id="jsb-initiator",
        outbox=tables.outbox,
        before_relay=recover_outbox,
    ) as rt:
        wire_postgres(app, rt.engine, ledger)

        ctx = handlers.CommandContext(
            catalogue,
            settings.topic_suffix,
            remind_before_working_days=settings.objection_reminder_working_days,
        )
        app.state.timers = timer_loop = TimerLoop(
            rt.engine, ctx, poll_s=settings.timer_poll_s, batch=settings.timer_batch
        )
        rt.loops.start("timers", timer_loop.run)
        try:
            yield
        finally:
            await ledger.aclose()
