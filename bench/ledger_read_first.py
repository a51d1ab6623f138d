"""Where the first status read of a long subject spends its time, part by part:

    python -m bench.ledger_read_first [EVENTS] [ROUNDS]

The subject of bench/ledger_subject.py (`EVENTS` events, default 10,000) ingested
with the projector storing its snapshots every K (the service's settings) into a
fresh ledger schema of the shared stack (dropped afterwards); then `ROUNDS` processes
of their own, each making the reads of the scale bench's phase as of the middle of
the history — a history page, then the status — three times: the process's first
read, a cold one (new in-memory snapshots: what a second long subject costs) and a
warm one. The status is made by the route's own steps called one by one (resolve,
the stored snapshot's row, its decode, the visible events after it, the fold, the
render, the JSON), its bytes checked equal to the route's. Prints one JSON line per
process (process CPU and wall in ms, per read and part), then the medians.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from bench.ledger_phases import BATCH
from bench.ledger_subject import OPS, PAGE, one_subject
from bench.trees import phase_result
from services.ledger import api_subjects, tables
from services.ledger.access import status_json
from services.ledger.ingest import Ingest
from services.ledger.ingest_postgres import PostgresLedger
from services.ledger.lookup import resolve_subject_head
from services.ledger.settings import LedgerSettings
from services.ledger.snapshot_store_postgres import stored_snapshots
from services.ledger.snapshots import Snapshot, Snapshots, fold_visible
from services.ledger.store import PostgresEventStore
from shared.adapters.collector import young_threshold
from shared.adapters.db import make_engine
from shared.adapters.settings import PROJECT_ROOT
from shared.domain.envelope import utc_now
from shared.domain.state_codec import decode_state
from shared.domain.status_view import render_status
from tests.support.infra import discover
from tests.support.ledger_harness import drop_schema, make_schema
from tests.support.ledger_workload import batches, records

T = TypeVar("T")


async def _ingest(schema: str, events: int) -> tuple[str, str]:
    """The subject ingested and projected; its id and the middle instant."""
    settings = LedgerSettings()
    with discover() as infra:
        engine = make_engine(infra.database_url, schema=schema)
        try:
            stored = stored_snapshots(
                engine, PostgresEventStore(engine, tables.events), settings.snapshot_every
            )
            projector = settings.projector(PostgresLedger(engine), stored=stored)
            projector.delay_s, projector.max_delay_s = 0.0, None
            handler = Ingest(hand_over=projector.hand_over)
            envelopes = one_subject(events)
            for part in batches(records(envelopes), BATCH):
                async with engine.begin() as conn:
                    await handler(conn, part)
                await projector.drain()
        finally:
            await engine.dispose()
    middle = envelopes[len(envelopes) // 2].time + timedelta(minutes=1)
    return envelopes[0].subject, middle.isoformat()


class Parts:
    def __init__(self) -> None:
        self.ms: dict[str, list[float]] = {}

    async def timed(self, name: str, work: Awaitable[T]) -> T:
        c, w = time.process_time(), time.perf_counter()
        out = await work
        self._add(name, c, w)
        return out

    def run(self, name: str, work: Callable[[], T]) -> T:
        c, w = time.process_time(), time.perf_counter()
        out = work()
        self._add(name, c, w)
        return out

    def _add(self, name: str, c: float, w: float) -> None:
        self.ms[name] = [
            round(1e3 * (time.process_time() - c), 2),
            round(1e3 * (time.perf_counter() - w), 2),
        ]


async def _read(schema: str, subject: str, as_of: datetime) -> dict[str, Any]:
    """In this process: the first, a cold and a warm read, by parts."""
    settings = LedgerSettings()
    with discover() as infra:
        engine = make_engine(infra.database_url, schema=schema)
        try:
            events = PostgresEventStore(engine, tables.events)
            stored = stored_snapshots(engine, events, settings.snapshot_every)
            assert stored is not None
            async with engine.connect():  # connected, as a service is before its reads
                pass
            out: dict[str, Any] = {}
            snapshots = Snapshots(settings.snapshot_every, settings.snapshot_capacity)
            for read in ("first", "cold", "warm"):
                if read == "cold":
                    snapshots = Snapshots(settings.snapshot_every, settings.snapshot_capacity)
                snapshots.stored = stored
                p = Parts()
                c, w = time.process_time(), time.perf_counter()
                await p.timed("page", api_subjects.history(subject, OPS, engine, events, 0, PAGE))
                body, known_at = await _status(p, engine, events, snapshots, subject, as_of)
                p.ms["read"] = [
                    round(1e3 * (time.process_time() - c), 2),
                    round(1e3 * (time.perf_counter() - w), 2),
                ]
                route = await api_subjects.subject_status(
                    subject, OPS, engine, events, as_of, known_at, snapshots
                )
                assert bytes(route.body) == body, "the parts answer what the route answers"
                out[read] = p.ms
            return out
        finally:
            await engine.dispose()


async def _status(
    p: Parts,
    engine: Any,
    events: PostgresEventStore,
    snapshots: Snapshots,
    subject: str,
    as_of: datetime,
) -> tuple[bytes, datetime]:
    """subject_status's steps (api_subjects.py, snapshots.state_at), one by one; the
    answer and the instant it is known at."""
    known_at = utc_now()
    async with engine.connect() as conn:
        subject, head = await p.timed("resolve", resolve_subject_head(conn, subject))
    base = snapshots.latest_usable(subject, as_of, known_at)
    stored = snapshots.stored
    assert stored is not None
    after = base.version if base is not None else 0
    row = None
    if stored.may_serve(head):
        row = await p.timed(
            "snapshot_row", stored.store.latest(subject, stored.codec(), as_of, known_at, after)
        )
    if row is not None:
        state = p.run("decode", lambda: decode_state(row.state))
        assert state is not None
        base = Snapshot(row.version, row.hash, state, row.latest_effective, row.latest_recorded)
    assert base is not None, "a subject this long has a usable snapshot"
    visible = await p.timed(
        "events_after", events.visible_stream(subject, as_of, known_at, base.version - 1)
    )
    assert visible[0].hash == base.hash
    snapshots.put(subject, base)
    folded = p.run(
        "fold", lambda: fold_visible(subject, visible[1:], as_of, known_at, base, snapshots)
    )
    memo = snapshots.memo(subject)
    status = p.run("render", lambda: render_status(folded, as_of, known_at, memo))
    return p.run("json", lambda: status_json(OPS, status)), known_at


def main() -> None:
    if sys.argv[1] == "--read":
        _, _, schema, subject, as_of = sys.argv
        settings = LedgerSettings()
        with young_threshold(settings.gc_threshold):
            out = asyncio.run(_read(schema, subject, datetime.fromisoformat(as_of)))
        sys.stdout.write(json.dumps(out) + "\n")
        return
    events = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    asyncio.run(_compare(events, rounds))


async def _compare(events: int, rounds: int) -> None:
    with discover() as infra:
        schema = await make_schema(infra)
        try:
            subject, middle = await _ingest(schema, events)
            runs = []
            for _ in range(rounds):
                args = [sys.executable, "-m", "bench.ledger_read_first", "--read"]
                env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
                run = await asyncio.to_thread(
                    phase_result, [*args, schema, subject, middle], PROJECT_ROOT, env
                )
                print(json.dumps(run), flush=True)
                runs.append(run)
        finally:
            await drop_schema(infra, schema)
    medians = {
        read: {
            part: [
                round(statistics.median(r[read][part][i] for r in runs if part in r[read]), 1)
                for i in (0, 1)
            ]
            for part in runs[0][read]
        }
        for read in runs[0]
    }
    print(json.dumps({"events": events, "rounds": rounds, "median_cpu_wall_ms": medians}))


if __name__ == "__main__":
    main()
