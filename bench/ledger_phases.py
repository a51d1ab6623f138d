"""The phases of the ledger bench (tests/bench/test_ledger_scale_bench.py), each run
in a process of its own so that its peak RSS is its own:

    python -m bench.ledger_phases copy    RECORDS SCHEMA   # raw COPY of the rows (baseline)
    python -m bench.ledger_phases peer    RECORDS SCHEMA   # eventsourcing's Postgres recorder
    python -m bench.ledger_phases ingest  RECORDS SCHEMA   # the ledger's Ingest and projector
    python -m bench.ledger_phases rebuild -       SCHEMA   # jsb ledger rebuild's code
    python -m bench.ledger_phases subject EVENTS  SCHEMA   # one subject: history + as-of

Each prints one JSON line: seconds, events, peak RSS (MB), and what else it measured.
SCHEMA is a migrated ledger schema for ingest/rebuild/subject, an empty one for the
baselines. Database URLs from the environment, as the tests find them.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import hashlib
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from aiokafka import ConsumerRecord
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.ledger_records import read
from bench.ledger_subject import PAGE, one_subject, subject_reads
from bench.servers import peak_rss_mb
from services.ledger import tables
from services.ledger.ingest import Ingest
from services.ledger.ingest_postgres import PostgresLedger
from services.ledger.projector import Projector
from services.ledger.read_models import refresh
from services.ledger.settings import LedgerSettings
from services.ledger.snapshots import Snapshots
from services.ledger.store import COPY_COLUMNS, PostgresEventStore
from shared.adapters import topics
from shared.adapters.collector import young_threshold
from shared.adapters.consumer import next_offsets, store_offsets
from shared.adapters.db import make_engine
from tests.support.infra import discover

BATCH = LedgerSettings().batch_size


def _urls() -> tuple[str, str]:
    with discover() as infra:
        return infra.database_url, infra.admin_url


@dataclass(frozen=True, slots=True)
class Numbered:
    """A record as a baseline stores it: its envelope's fields, its stream version and
    a chain of SHA-256 hashes (computed outside the clock)."""

    record: ConsumerRecord
    doc: dict[str, Any]
    version: int
    prev_hash: str
    hash: str


def numbered(records: Path) -> Iterator[list[Numbered]]:
    heads: dict[str, tuple[int, str]] = {}
    for part in read(records, BATCH):
        out = []
        for r in part:
            doc = json.loads(r.value)
            version, prev = heads.get(doc["subject"], (0, "0" * 64))
            digest = hashlib.sha256(prev.encode() + r.value).hexdigest()
            heads[doc["subject"]] = (version + 1, digest)
            out.append(Numbered(r, doc, version + 1, prev, digest))
        yield out


async def raw_copy(records: Path, schema: str) -> dict[str, Any]:
    """The rows the ledger stores (ids, stream versions, chain hashes, the payload as
    JSONB), prepared outside the clock, COPYed batch by batch into a plain table with
    no index, one transaction per batch: the database's own limit for these rows."""
    _, admin = _urls()
    engine = make_engine(admin, schema=schema)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "CREATE TABLE copy_events (position bigint GENERATED ALWAYS AS IDENTITY,"
                " event_id uuid, stream text, stream_version int, type text,"
                " schema_version int, effective_at timestamptz,"
                " recorded_at timestamptz DEFAULT clock_timestamp(), source_topic text,"
                " source_partition int, source_offset bigint, payload jsonb,"
                " prev_hash text, hash text)"
            )
        )
    timed = 0.0
    n = 0
    for part in numbered(records):
        rows = copy_rows(part)
        timed += await copy_batch(engine, "copy_events", rows)
        n += len(rows)
    await engine.dispose()
    return {"seconds": round(timed, 3), "events": n}


def copy_rows(part: list[Numbered]) -> list[tuple[Any, ...]]:
    """The events rows of a batch in COPY_COLUMNS' order (the raw COPY baseline's)."""
    return [
        (
            UUID(e.doc["id"]),
            e.doc["subject"],
            e.version,
            e.doc["type"],
            1,
            datetime.fromisoformat(e.doc["time"]),
            e.record.topic,
            e.record.partition,
            e.record.offset,
            e.record.value.decode(),
            e.prev_hash,
            e.hash,
        )
        for e in part
    ]


async def copy_batch(engine: AsyncEngine, table: str, rows: list[tuple[Any, ...]]) -> float:
    """`rows` COPYed into `table` in a transaction of their own; the seconds it took."""
    started = time.perf_counter()
    async with engine.begin() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        assert raw is not None
        await raw.copy_records_to_table(table, records=rows, columns=COPY_COLUMNS)
    return time.perf_counter() - started


def peer(records: Path, schema: str) -> dict[str, Any]:
    """eventsourcing's `PostgresApplicationRecorder.insert_events` (one transaction
    per call: LOCK TABLE, INSERT ... unnest, RETURNING notification ids), with the
    same events as `StoredEvent`s (originator = subject, version per subject, topic =
    type, state = the record's bytes) prepared outside the clock, same batches."""
    from eventsourcing.persistence import StoredEvent
    from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

    _, admin = _urls()
    url = make_url(admin)
    datastore = PostgresDatastore(
        dbname=url.database or "",
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "",
        password=url.password or "",
        schema=schema,
        originator_id_type="text",
    )
    recorder = PostgresApplicationRecorder(datastore, events_table_name="peer_events")
    recorder.create_table()
    timed = 0.0
    n = 0
    for part in numbered(records):
        batch = [
            StoredEvent(e.doc["subject"], e.version, e.doc["type"], e.record.value) for e in part
        ]
        started = time.perf_counter()
        recorder.insert_events(batch)
        timed += time.perf_counter() - started
        n += len(batch)
    datastore.close()
    return {"seconds": round(timed, 3), "events": n}


async def ingest(records: Path, schema: str) -> dict[str, Any]:
    """The ledger's ingest as its lanes run it: per batch, one transaction with the
    `Ingest` handler (decode, append, lookups, projection queue) and the stored
    offsets; the designations' and the feedback's batches taking turns. The projector
    runs beside it in the same event loop, as in the service (bootstrap.py), with the
    service's settings. Two clocks: `seconds` stops when the last batch is committed
    (the append path: what Kafka's consumers wait for), `projected_seconds` when no
    subject is queued any more (every projection row and status message written;
    what is still queued then is projected at once, without the delay).
    The collector tuned as the service tunes it (bootstrap.py)."""
    settings = LedgerSettings()
    database, _ = _urls()
    if settings.gc_threshold:
        gc.set_threshold(settings.gc_threshold, *gc.get_threshold()[1:])
    engine = make_engine(database, schema=schema)
    projector, _ = _projector(engine, settings)
    handler = Ingest(hand_over=projector.hand_over)
    stop = asyncio.Event()
    collector = CollectorTime()
    gc.callbacks.append(collector)
    started, cpu = time.perf_counter(), time.process_time()
    projecting = asyncio.create_task(projector.run(stop))
    for part in lanes(records):
        async with engine.begin() as conn:
            await handler(conn, part)
            await store_offsets(conn, tables.consumer_offsets, "bench", next_offsets(part))
    appended = time.perf_counter() - started
    appended_cpu = time.process_time() - cpu
    gc.callbacks.remove(collector)
    # The rest at once: no batch is coming that waiting would coalesce.
    stop.set()
    await projecting
    projector.delay_s = 0.0
    await projector.drain()
    projected = time.perf_counter() - started
    assert await _queued(engine) == 0
    await engine.dispose()
    return {
        "seconds": round(appended, 3),
        "projected_seconds": round(projected, 3),
        # this process's CPU (not Postgres'): what a loaded machine inflates least
        "cpu_seconds_appended": round(appended_cpu, 3),
        "cpu_seconds": round(time.process_time() - cpu, 3),
        # of which the cyclic collector's, until the last batch committed
        "gc_seconds_appended": round(collector.seconds, 3),
        "gc_collections_appended": collector.collections,
        "events": handler.appended,
        "subject_refreshes": projector.refreshed,
        "projection_rounds": projector.rounds,
        "ingest_share_per_step": {k: round(v / appended, 3) for k, v in handler.seconds.items()},
        "projector_share_per_step": {
            k: round(v / projected, 3) for k, v in projector.seconds.items()
        },
        "fold_cache_hits": projector.cache.hits,
        "fold_cache_misses": projector.cache.misses,
        "fold_cache_entries": len(projector.cache),
    }


class CollectorTime:
    """A `gc.callbacks` entry adding up the collector's CPU time and collections (per
    generation): how much of a phase's CPU the cyclic collector takes."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.collections = [0, 0, 0]
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.process_time()
        else:
            self.seconds += time.process_time() - self._started
            self.collections[info["generation"]] += 1


async def _queued(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM projection_queue"))).scalar_one())


def lanes(records: Path) -> Iterator[list[ConsumerRecord]]:
    """The batches as the service's two lanes apply them (bootstrap.py): one lane per
    topic, each with its own batches, taking turns at the append lock."""
    settings = LedgerSettings()
    turns = [
        read(records, settings.lane_batch_size(lane), topic)
        for lane, topic in (("designations", topics.DESIGNATIONS), ("feedback", topics.FEEDBACK))
    ]
    while turns:
        for lane in list(turns):
            part = next(lane, None)
            if part is None:
                turns.remove(lane)
            else:
                yield part


async def rebuild(schema: str) -> dict[str, Any]:
    """`jsb ledger rebuild`'s work: every projection row dropped and projected again
    from the store, in one transaction."""
    database, _ = _urls()
    engine = make_engine(database, schema=schema)
    started = time.perf_counter()
    async with engine.begin() as conn:
        events, subjects = await refresh.rebuild(conn)
    elapsed = time.perf_counter() - started
    await engine.dispose()
    return {"seconds": round(elapsed, 3), "events": events, "subjects": subjects}


async def subject(events: int, schema: str) -> dict[str, Any]:
    """One subject with `events` events, ingested through `Ingest`, then its history
    and its status as of now and as of the middle of its history, as the routes of
    api_subjects.py compute them (first call, and the best of five), with the
    collector tuned as the service's process runs them (bootstrap.py)."""
    with young_threshold(LedgerSettings().gc_threshold):
        return await _subject(events, schema)


async def _subject(events: int, schema: str) -> dict[str, Any]:
    database, _ = _urls()
    engine = make_engine(database, schema=schema)
    envelopes = one_subject(events + 1)
    settings = LedgerSettings()
    projector, stored = _projector(engine, settings)
    # each batch projected when it is committed, as the projector does at the latest
    # after its bound (`projection_max_delay_s`) while a subject keeps getting events
    projector.delay_s, projector.max_delay_s = 0.0, None
    handler = Ingest(hand_over=projector.hand_over)
    from tests.support.ledger_workload import batches, records

    for part in batches(records(envelopes[:-1]), BATCH):
        async with engine.begin() as conn:
            await handler(conn, part)
        await projector.drain()
    middle = envelopes[len(envelopes) // 2].time + timedelta(minutes=1)
    snapshots = Snapshots(settings.snapshot_every, settings.snapshot_capacity)
    snapshots.stored = stored  # older trees: an attribute nothing reads
    reads: Callable[[], Awaitable[int]] = lambda: subject_reads(  # noqa: E731
        engine, envelopes[0].subject, middle, snapshots
    )
    whole: Callable[[], Awaitable[int]] = lambda: subject_reads(  # noqa: E731
        engine, envelopes[0].subject, middle, snapshots, page=None
    )
    first = await _timed(reads)
    best = min([await _timed(reads) for _ in range(5)])
    whole_history = await _timed(whole)
    # The first read as of just before a multiple of K (0.6 of the history: version
    # 5,999 of 10,000), in a process with nothing in memory: the most a read folds
    # after the newest stored snapshot it may use (K - 1 events).
    late = envelopes[int(len(envelopes) * 0.6) - 1].time + timedelta(minutes=1)
    cold = Snapshots(settings.snapshot_every, settings.snapshot_capacity)
    cold.stored = stored
    first_late = await _timed(lambda: subject_reads(engine, envelopes[0].subject, late, cold))
    # A refresh of the subject (a new event on it): its fold misses the cache (a
    # stream over its event bound), as in the service.
    async with engine.begin() as conn:
        await handler(conn, list(records(envelopes[-1:])))
    cpu = time.process_time()
    refresh_s = await _timed(projector.drain)
    refresh_cpu = time.process_time() - cpu
    stats = await _snapshot_storage(engine)
    await engine.dispose()
    return {
        "events": handler.appended - 1,
        "page": PAGE,
        "first_ms": round(first * 1000, 1),
        "best_ms": round(best * 1000, 1),
        "whole_history_ms": round(whole_history * 1000, 1),
        "first_late_ms": round(first_late * 1000, 1),
        "refresh_ms": round(refresh_s * 1000, 1),
        "refresh_cpu_ms": round(refresh_cpu * 1000, 1),
        **stats,
    }


def _projector(engine: AsyncEngine, settings: LedgerSettings) -> tuple[Projector, Any]:
    """The projector as the service wires it (bootstrap.py), with its stored snapshots
    if this code has them (this phase also runs older trees beside this one:
    bench/ledger_reads_before_after.py)."""
    try:
        from services.ledger.snapshot_store_postgres import stored_snapshots
    except ImportError:
        return settings.projector(PostgresLedger(engine)), None
    if os.environ.get("JSB_BENCH_NO_STORED_SNAPSHOTS"):  # this code without them
        return settings.projector(PostgresLedger(engine)), None
    events = PostgresEventStore(engine, tables.events)
    stored = stored_snapshots(engine, events, settings.snapshot_every)
    return settings.projector(PostgresLedger(engine), stored=stored), stored


async def _snapshot_storage(engine: AsyncEngine) -> dict[str, Any]:
    """How many snapshots are stored, and their size: encoded, and as stored
    (`pg_column_size`: after the column's compression)."""
    async with engine.connect() as conn:
        if not await conn.scalar(text("SELECT to_regclass('snapshots') IS NOT NULL")):
            return {}
        row = (
            await conn.execute(
                text(
                    "SELECT count(*), coalesce(avg(octet_length(state)), 0),"
                    " coalesce(avg(pg_column_size(state)), 0),"
                    " coalesce(max(octet_length(state)), 0),"
                    " pg_total_relation_size('events') FROM snapshots"
                )
            )
        ).one()
    return {
        "snapshots": int(row[0]),
        "snapshot_kb_avg": round(float(row[1]) / 1024, 1),
        "snapshot_stored_kb_avg": round(float(row[2]) / 1024, 1),
        "snapshot_kb_max": round(float(row[3]) / 1024, 1),
        "events_table_kb": round(float(row[4]) / 1024, 1),
    }


async def _timed(fn: Callable[[], Awaitable[Any]]) -> float:
    started = time.perf_counter()
    await fn()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("phase", choices=["copy", "peer", "ingest", "rebuild", "subject"])
    parser.add_argument("source")
    parser.add_argument("schema")
    args = parser.parse_args()
    if args.phase == "copy":
        out = asyncio.run(raw_copy(Path(args.source), args.schema))
    elif args.phase == "peer":
        out = peer(Path(args.source), args.schema)
    elif args.phase == "ingest":
        out = asyncio.run(ingest(Path(args.source), args.schema))
    elif args.phase == "rebuild":
        out = asyncio.run(rebuild(args.schema))
    else:
        out = asyncio.run(subject(int(args.source), args.schema))
    # VmHWM, not getrusage's ru_maxrss: that one keeps the forking parent's peak
    # across exec (the bench's own process, which generated the records).
    out["peak_rss_mb"] = round(peak_rss_mb(os.getpid()), 1)
    sys.stdout.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
