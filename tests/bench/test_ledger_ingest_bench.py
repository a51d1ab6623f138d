"""How fast the ledger ingests a bulk court list, and where the time goes.

The mix (tests/support/ledger_workload.py): court debtors designated in chunks at
`especially_serious` (49 tasks each) and the feedback the responder's department
lanes send back per chunk — a batch holds feedback for hundreds of subjects, a
subject's feedback spreads over several batches, some lands beside its designation.

Everything runs in-process against the real Postgres (a fresh schema per run), the
way the consumer applies a batch: one transaction with the batch's effects and its
stored offsets. No Kafka: the records are built in memory, so the numbers are the
ledger's own.

Baseline: the raw append-only throughput of the same events (decode and
`store.append` alone, same batches, a fresh schema, Python's default collector)
measured in the same run. Ingest is reported as events/s and as a share of that
baseline, with the time split per step (`Ingest.seconds`), the subject refreshes
(the unit of cost) and the fold cache's hits, at the old default batch size (500) and
the current one. To compare with another version of the ledger, run this file
against it and compare `ratio_to_append_only`.
Afterwards the incrementally built projections are compared with a rebuild from the
events (ingest must stay exactly what it was, only faster).

`JSB_BENCH_LEDGER_SUBJECTS` (default 300 debtors = 15,000 events) sizes the run.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiokafka import ConsumerRecord
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.ledger import store, tables
from services.ledger.ingest import Ingest
from services.ledger.ingest_postgres import PostgresLedger
from services.ledger.projector import Projector
from services.ledger.read_models import refresh
from services.ledger.settings import LedgerSettings
from shared.adapters.consumer import next_offsets, store_offsets
from shared.adapters.db import make_engine
from shared.domain.events import decode_bytes
from tests.bench.report import record
from tests.support.infra import Infra
from tests.support.ledger_harness import drop_schema, make_schema
from tests.support.ledger_workload import batches, court_bulk, records

pytestmark = pytest.mark.bench

SUBJECTS = int(os.environ.get("JSB_BENCH_LEDGER_SUBJECTS", "300"))
OLD_BATCH = 500  # the default before the ledger got its own


@asynccontextmanager
async def fresh_ledger(infra: Infra) -> AsyncIterator[AsyncEngine]:
    schema = await make_schema(infra)
    engine = make_engine(infra.database_url, schema=schema)
    try:
        yield engine
    finally:
        await engine.dispose()
        await drop_schema(infra, schema)


@asynccontextmanager
async def service_gc() -> AsyncIterator[None]:
    """The collector as the ledger's process runs it (bootstrap.py)."""
    previous = gc.get_threshold()
    threshold = LedgerSettings().gc_threshold
    if threshold:
        gc.set_threshold(threshold, *previous[1:])
    try:
        yield
    finally:
        gc.set_threshold(*previous)


async def append_only(engine: AsyncEngine, recs: Sequence[ConsumerRecord], size: int) -> float:
    """Seconds to decode and append the records, nothing else (the baseline)."""
    started = time.perf_counter()
    for part in batches(recs, size):
        async with engine.begin() as conn:
            decoded = [
                (decode_bytes(r.value)[0], store.SourceRef(r.topic, r.partition, r.offset))
                for r in part
            ]
            await store.append(conn, tables.events, decoded)
            await store_offsets(conn, tables.consumer_offsets, "bench", next_offsets(part))
    return time.perf_counter() - started


async def ingest(
    engine: AsyncEngine, recs: Sequence[ConsumerRecord], size: int
) -> tuple[Ingest, Projector]:
    """Each batch ingested, then projected (services/ledger/projector.py): a refresh of
    every subject per batch, as when the projections were written by ingest. Without
    the projection delay: `drain` projects only subjects queued at least that long
    ago, so with the service's 0.5 s it would leave each batch's subjects queued."""
    settings = LedgerSettings(projection_delay_s=0)
    projector = settings.projector(PostgresLedger(engine))
    handler = Ingest(hand_over=projector.hand_over)
    for part in batches(recs, size):
        async with engine.begin() as conn:
            await handler(conn, part)
            await store_offsets(conn, tables.consumer_offsets, "bench", next_offsets(part))
        await projector.drain()
    return handler, projector


async def projection_rows(engine: AsyncEngine) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    async with engine.connect() as conn:
        for table in tables.PROJECTIONS:
            rows = await conn.execute(select(table).order_by(*table.primary_key.columns))
            out[table.name] = [tuple(r) for r in rows]
    return out


async def test_ingest_of_a_bulk_court_list(infra: Infra) -> None:
    workload = court_bulk(SUBJECTS)
    recs = records(workload.envelopes)
    default_batch = LedgerSettings().batch_size
    results: dict[str, Any] = {
        "subjects": workload.designations,
        "events": workload.events,
        "default_batch": default_batch,
    }
    # The yardstick runs with Python's default collector, so that it measures the
    # machine the same way whatever the ledger tunes (ingest runs as the service does).
    async with fresh_ledger(infra) as engine:
        baseline_s = await append_only(engine, recs, default_batch)
    results["append_only_events_per_s"] = round(workload.events / baseline_s)
    async with service_gc():
        for size in sorted({OLD_BATCH, default_batch}):
            async with fresh_ledger(infra) as engine:
                started = time.perf_counter()
                handler, projector = await ingest(engine, recs, size)
                elapsed = time.perf_counter() - started
                assert handler.appended == workload.events
                results[f"batch_{size}"] = _report(
                    handler, projector, elapsed, baseline_s, workload.events
                )
                if size == default_batch:
                    live = await projection_rows(engine)
                    subjects = {e.subject for e in workload.envelopes}
                    assert len(live["subject_status"]) == len(subjects)  # all projected
                    async with engine.begin() as conn:
                        await refresh.rebuild(conn)
                    assert await projection_rows(engine) == live  # same result, only faster
    record(f"ledger-ingest-{SUBJECTS}", results)


def _report(
    handler: Ingest, projector: Projector, elapsed: float, baseline_s: float, events: int
) -> dict[str, Any]:
    steps = {**handler.seconds, **projector.seconds}
    return {
        "seconds": round(elapsed, 2),
        "events_per_s": round(events / elapsed),
        "ratio_to_append_only": round(baseline_s / elapsed, 3),
        "subject_refreshes": projector.refreshed,
        "events_per_refresh": round(events / projector.refreshed, 2),
        "ms_per_refresh": round(elapsed / projector.refreshed * 1000, 2),
        "share_per_step": {k: round(v / elapsed, 3) for k, v in steps.items()},
        "fold_cache_hits": projector.cache.hits,
        "fold_cache_misses": projector.cache.misses,
    }
