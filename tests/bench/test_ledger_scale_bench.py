"""The ledger at scale (issue 11, part 4): N events of a bulk court list through the
ledger's real ingest, against two baselines on the same rows in the same run, a full
rebuild of the read models, one subject with a long history, peak RSS of each.

- **raw COPY**: the rows the ledger stores (ids, versions, chain hashes, JSONB
  payload), prepared outside the clock, `COPY`ed into a plain table without index,
  one transaction per batch: the database's limit for these rows.
- **the peer**: the `eventsourcing` library's `PostgresApplicationRecorder`
  appending the same events (a dev dependency of the bench only).
- **ingest**: `services.ledger.ingest.Ingest`, the handler both lanes run, fed the
  consumer records directly, one transaction per batch with the stored offsets,
  exactly as `TransactionalConsumer` applies a polled batch, with the projector
  (services/ledger/projector.py) running beside it as in the service. Two figures:
  the append path (until the last batch is committed: `ingest`, `ingest_over_*`)
  and until every queued subject is projected (`projected_*`). Not through Kafka: the
  broker and aiokafka deliver 90,000–120,000 records/s here
  (test_kafka_baseline_bench.py), far above the ledger, and would only add their
  noise; this measures the ledger.
- **rebuild**: `jsb ledger rebuild`'s code on the ingested store.
- **one subject**: a history page (100 events) plus the status as of the middle of
  its history, through the route functions, for a subject of 1,000 and of 10,000
  events; the whole history is timed once beside it.

Each phase runs in a process of its own (bench/ledger_phases.py), so its peak RSS is
its own; the records are on disk (bench/ledger_records.py). Sizes:
`JSB_BENCH_LEDGER_EVENTS` (comma-separated, default below), chosen so that the whole
`make bench` stays under 15 minutes on the development machine.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bench.ledger_records import write
from bench.trees import phase_result
from shared.adapters.settings import PROJECT_ROOT
from tests.bench.report import record
from tests.support.infra import Infra, unique
from tests.support.ledger_harness import drop_schema, make_schema

pytestmark = pytest.mark.bench

SIZES = [int(n) for n in os.environ.get("JSB_BENCH_LEDGER_EVENTS", "2500,25000").split(",")]
SUBJECT_SIZES = (1_000, 10_000)
EVENTS_PER_DEBTOR = 49


def phase(name: str, source: str, schema: str) -> dict[str, Any]:
    return phase_result(
        [sys.executable, "-m", "bench.ledger_phases", name, source, schema], PROJECT_ROOT
    )


async def plain_schema(infra: Infra) -> str:
    schema = unique("bench_")
    engine = create_async_engine(infra.admin_url)
    async with engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    await engine.dispose()
    return schema


async def run(name: str, source: str, schema: str) -> dict[str, Any]:
    return await asyncio.to_thread(phase, name, source, schema)


def per_s(r: dict[str, Any]) -> float:
    return float(r["events"]) / float(r["seconds"])


async def one_size(infra: Infra, events: int, workdir: Path) -> dict[str, Any]:
    path = workdir / f"records-{events}.tsv"
    n = await asyncio.to_thread(write, path, events // EVENTS_PER_DEBTOR)
    schemas = [await plain_schema(infra), await plain_schema(infra), await make_schema(infra)]
    try:
        copy = await run("copy", str(path), schemas[0])
        peer = await run("peer", str(path), schemas[1])
        ingest = await run("ingest", str(path), schemas[2])
        rebuild = await run("rebuild", "-", schemas[2])
    finally:
        for schema in schemas:
            await drop_schema(infra, schema)
        path.unlink()
    assert copy["events"] == peer["events"] == ingest["events"] == rebuild["events"] == n
    return {
        "events": n,
        "subjects": events // EVENTS_PER_DEBTOR,
        "raw_copy": {**copy, "events_per_s": round(per_s(copy))},
        "peer_eventsourcing": {**peer, "events_per_s": round(per_s(peer))},
        "ingest": {**ingest, "events_per_s": round(per_s(ingest))},
        "rebuild": {**rebuild, "events_per_s": round(per_s(rebuild))},
        # the append path: every batch committed, projections possibly still queued
        "ingest_over_raw_copy": round(per_s(ingest) / per_s(copy), 3),
        "ingest_over_peer": round(per_s(ingest) / per_s(peer), 2),
        # until every queued subject is projected (rows and status messages written)
        "projected_events_per_s": round(n / float(ingest["projected_seconds"])),
        "projected_over_raw_copy": round(n / float(ingest["projected_seconds"]) / per_s(copy), 3),
        "projected_over_peer": round(n / float(ingest["projected_seconds"]) / per_s(peer), 2),
    }


async def test_the_ledger_at_scale(infra: Infra, tmp_path: Path) -> None:
    results: dict[str, Any] = {"sizes": {}, "subject": {}}
    for events in SIZES:
        results["sizes"][str(events)] = await one_size(infra, events, tmp_path)
    for events in SUBJECT_SIZES:
        schema = await make_schema(infra)
        try:
            results["subject"][str(events)] = await run("subject", str(events), schema)
        finally:
            await drop_schema(infra, schema)
    record("ledger-scale", results)
