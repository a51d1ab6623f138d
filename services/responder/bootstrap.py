"""Wires the responder: catalogue and hosting, engine, producer, the ingest consumer,
one lane per hosted department, the outbox relay, freshness; the service layer's
ports (ports.py) on Postgres (pg_store.py): `app.state.responder_store` (the
ingest, the lanes and the inbox's reads) and `app.state.task_answers` (an officer's
answers, under `Idempotency-Key`)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
from fastapi import FastAPI

from services.responder import execution, tables
from services.responder.check_journal import CheckJournal
from services.responder.freshness import Freshness
from services.responder.hosting import Hosting
from services.responder.index_store import IndexReadiness
from services.responder.ingest import CONSUMER, Ingest
from services.responder.ingest_consumer import IngestConsumer
from services.responder.lanes import Lanes
from services.responder.metrics import ResponderMetrics
from services.responder.pg_store import (
    INGEST_LOCK,
    PostgresResponderStore,
    on_connection,
    postgres_unit,
)
from services.responder.settings import ResponderSettings
from shared.adapters import topics
from shared.adapters.db import session_settings
from shared.adapters.idempotency import PostgresIdempotency
from shared.adapters.runtime import ServiceRuntime
from shared.domain.catalogue.index import default_index


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: ResponderSettings = app.state.settings
    catalogue = default_index()
    hosting = Hosting.of(settings, catalogue)
    metrics = ResponderMetrics.on(app.state.metrics)
    app.state.catalogue = catalogue
    app.state.hosting = hosting
    app.state.responder_metrics = metrics
    async with ServiceRuntime.open(
        app, settings, client_id="jsb-responder", outbox=tables.outbox
    ) as rt:
        freshness = Freshness(rt.engine, CONSUMER, settings.freshness_persist_s)
        app.state.freshness = freshness
        app.state.readiness["data"] = freshness.ready
        with contextlib.suppress(Exception):  # Postgres away at start: the ingest notes it later
            await freshness.load()
        store = PostgresResponderStore(rt.engine)
        app.state.responder_store = store
        app.state.task_answers = PostgresIdempotency(rt.engine, tables.idempotency, postgres_unit)
        ctx = execution.Context(hosting, settings.topic_suffix, settings.lane_batch, metrics)
        lanes = Lanes(
            store,
            hosting.departments,
            functools.partial(execution.advance, store, ctx=ctx),
            concurrency=settings.lane_concurrency,
            scan_interval_s=settings.scan_interval_s,
            on_failure=lambda _: metrics.lane_failures.inc(),
            applied=ctx.applied,
        )
        app.state.lanes = lanes
        ingest = Ingest(hosting, settings.topic_suffix, metrics, memo=ctx.memo)
        app.state.ingest = ingest
        metrics.index_subjects.set(-1)
        index = IndexReadiness(
            hosting.departments, metrics.index_subjects.set, settings.scan_interval_s
        )
        app.state.index = index
        rt.consume(
            name=CONSUMER,
            group_id=settings.group_id,
            topics=[topics.DESIGNATIONS + settings.topic_suffix],
            offsets=tables.consumer_offsets,
            handler=on_connection(ingest),
            consumer_factory=functools.partial(
                IngestConsumer,
                ingest=ingest,
                freshness=freshness,
                wake=lanes.delivered,
                on_index=index.apply,
            ),
        )
        # Checks read the index and write through the group commit on plain asyncpg
        # connections: one round trip per lookup with asyncpg's prepared-statement cache,
        # without the engine's pre-ping round trip per checkout or SQLAlchemy's
        # per-statement work (see docs/benchmarks.md).
        pool = await asyncpg.create_pool(
            asyncpg_dsn(settings.database_url),
            min_size=0,
            max_size=settings.check_pool_size,
            server_settings=session_settings(settings.db_schema),
            reset=_keep_session,
        )
        journal = CheckJournal(
            pool, writers=settings.check_journal_writers, observe=metrics.observe_group
        )
        app.state.check_pool = pool
        app.state.check_journal = journal
        rt.loops.start("check-journal", journal.run)
        rt.loops.start(
            "restriction-index", functools.partial(index.run, rt.engine, pool, INGEST_LOCK)
        )
        rt.loops.start("lanes", lanes.run)
        rt.loops.start("data-age", functools.partial(_data_age, freshness, metrics))
        try:
            yield
        finally:
            await rt.loops.close()  # the journal's last group commits before the pool closes
            await pool.close()


async def _keep_session(conn: asyncpg.Connection[Any]) -> None:
    """No reset when a check's connection goes back to the pool: asyncpg's default
    (`RESET ALL`, unlisten, unlock) is a round trip per check (9 % of the check's CPU in
    the profile), and the check path leaves no session state: no LISTEN, no session
    lock, no SET, every transaction closed by its `async with`."""


def asyncpg_dsn(url: str) -> str:
    """The SQLAlchemy URL (`postgresql+asyncpg://…`) as a libpq DSN for asyncpg."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _data_age(freshness: Freshness, metrics: ResponderMetrics, stop: asyncio.Event) -> None:
    while not stop.is_set():
        at = freshness.caught_up_at
        if at is not None:
            metrics.data_age.set((datetime.now(UTC) - at).total_seconds())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 5.0)
