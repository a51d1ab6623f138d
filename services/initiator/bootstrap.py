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
from shared.adapters.outbox import OutboxRelay
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
    # The relay is wired here rather than by ServiceRuntime: it must not publish
    # before the crash recovery has looked at the topic (relay_recovery.py).
    async with ServiceRuntime.open(app, settings, client_id="jsb-initiator") as rt:
        wire_postgres(app, rt.engine, ledger)

        async def run_relay(stop: asyncio.Event) -> None:
            if not await _either(rt.producer_started, stop):
                return
            while not stop.is_set():
                try:
                    await mark_already_published(
                        rt.engine,
                        tables.outbox,
                        settings.kafka_bootstrap_servers,
                        window=settings.batch_size,
                    )
                    break
                except Exception as exc:
                    log.warning("outbox recovery failed (%s); retrying", type(exc).__name__)
                    await asyncio.sleep(1.0)
            # Built once the producer runs: ServiceRuntime replaces a producer that
            # failed to start, so one taken earlier could be a dead one.
            relay = OutboxRelay(
                rt.engine,
                tables.outbox,
                rt.producer,
                batch_size=settings.batch_size,
                idle_sleep_s=settings.poll_interval_s,
                metrics=rt.metrics,
                ack_timeout_s=settings.relay_ack_timeout_s,
                renew=rt.renew_producer,
            )
            app.state.relay = relay
            await relay.run(stop)

        ctx = handlers.CommandContext(
            catalogue,
            settings.topic_suffix,
            remind_before_working_days=settings.objection_reminder_working_days,
        )
        app.state.timers = timer_loop = TimerLoop(
            rt.engine, ctx, poll_s=settings.timer_poll_s, batch=settings.timer_batch
        )
        rt.loops.start("outbox-relay", run_relay)
        rt.loops.start("timers", timer_loop.run)
        try:
            yield
        finally:
            await ledger.aclose()


async def _either(wanted: asyncio.Event, stop: asyncio.Event) -> bool:
    """Wait until `wanted` is set (True) or `stop` is (False)."""
    waits = [asyncio.create_task(wanted.wait()), asyncio.create_task(stop.wait())]
    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for task in waits:
        task.cancel()
    return wanted.is_set()
