"""A short subject's status read (a court debtor: ~50 events, below the snapshot
interval K), with and without asking the snapshot store, alternated in one process:

    python -m bench.ledger_read_short [DEBTORS] [READS]

`DEBTORS` court debtors of the ledger bench's workload ingested and projected into a
fresh ledger schema of the shared stack (dropped afterwards), then `READS` rounds of
one status read of each (as of now, an `ops` caller, through the route function as
the service answers it, with the service's snapshots stored and in memory), one
round each way in turn, the order swapped every round:

- `asks`: as before session 10 — the subject resolved alone, then the snapshot
  store asked for a snapshot the stream cannot have;
- `gated`: the subject resolved with its status row's version
  (lookup.resolve_subject_head), the store not asked for a stream shorter than K.

Prints one JSON line: process CPU and wall per read (medians of the rounds' means),
and the ratio.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from typing import Any

from bench.ledger_subject import OPS
from services.ledger import api_subjects, tables
from services.ledger.ingest import Ingest
from services.ledger.ingest_postgres import PostgresLedger
from services.ledger.lookup import resolve_subject
from services.ledger.settings import LedgerSettings
from services.ledger.snapshot_store_postgres import stored_snapshots
from services.ledger.snapshots import Snapshots, state_at
from services.ledger.store import PostgresEventStore
from shared.adapters.collector import young_threshold
from shared.adapters.db import make_engine
from shared.domain.envelope import utc_now
from shared.domain.status_view import render_status
from tests.support.infra import discover
from tests.support.ledger_harness import drop_schema, make_schema
from tests.support.ledger_workload import batches, court_bulk, records


async def _asks(
    engine: Any, events: PostgresEventStore, subject: str, snapshots: Snapshots
) -> bytes:
    """The route as it was: resolve, then state_at without the head."""
    now = utc_now()
    async with engine.connect() as conn:
        resolved = await resolve_subject(conn, subject)
    state = await state_at(events, resolved, now, now, snapshots)
    status = render_status(state, now, now, snapshots.memo(resolved))
    return api_subjects.status_json(OPS, status)


async def run(debtors: int, reads: int) -> dict[str, Any]:
    settings = LedgerSettings()
    with discover() as infra:
        schema = await make_schema(infra)
        engine = make_engine(infra.database_url, schema=schema)
        try:
            events = PostgresEventStore(engine, tables.events)
            stored = stored_snapshots(engine, events, settings.snapshot_every)
            projector = settings.projector(PostgresLedger(engine), stored=stored)
            projector.delay_s, projector.max_delay_s = 0.0, None
            handler = Ingest(hand_over=projector.hand_over)
            envelopes = court_bulk(debtors).envelopes
            for part in batches(records(envelopes), settings.batch_size):
                async with engine.begin() as conn:
                    await handler(conn, part)
                await projector.drain()
            subjects = sorted({e.subject for e in envelopes})
            snapshots = Snapshots(settings.snapshot_every, settings.snapshot_capacity)
            snapshots.stored = stored

            async def gated(subject: str) -> bytes:
                answer = await api_subjects.subject_status(
                    subject, OPS, engine, events, None, None, snapshots
                )
                return bytes(answer.body)

            async def asks(subject: str) -> bytes:
                return await _asks(engine, events, subject, snapshots)

            ways = {"asks": asks, "gated": gated}
            cpu: dict[str, list[float]] = {k: [] for k in ways}
            wall: dict[str, list[float]] = {k: [] for k in ways}
            with young_threshold(settings.gc_threshold):
                for way in ways.values():  # warm: statements prepared, caches filled
                    for subject in subjects:
                        await way(subject)
                for i in range(reads):
                    for name in sorted(ways, reverse=i % 2 == 1):
                        c, w = time.process_time(), time.perf_counter()
                        for subject in subjects:
                            await ways[name](subject)
                        cpu[name].append((time.process_time() - c) / len(subjects))
                        wall[name].append((time.perf_counter() - w) / len(subjects))
            out: dict[str, Any] = {"debtors": len(subjects), "reads": reads}
            for k in ways:
                out[f"{k}_cpu_ms"] = round(1e3 * statistics.median(cpu[k]), 3)
                out[f"{k}_wall_ms"] = round(1e3 * statistics.median(wall[k]), 3)
            out["cpu_ratio"] = round(out["gated_cpu_ms"] / out["asks_cpu_ms"], 3)
            out["wall_ratio"] = round(out["gated_wall_ms"] / out["asks_wall_ms"], 3)
            return out
        finally:
            await engine.dispose()
            await drop_schema(infra, schema)


def main() -> None:
    debtors = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    reads = int(sys.argv[2]) if len(sys.argv) > 2 else 21
    print(json.dumps(asyncio.run(run(debtors, reads))))


if __name__ == "__main__":
    main()
