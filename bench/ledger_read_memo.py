"""The 10,000-event subject's status read with and without the render memo
(services/ledger/snapshots.py, `RenderMemo`), alternated in one process on one
stored subject, in process CPU time:

    python -m bench.ledger_read_memo [EVENTS] [READS]

The subject of bench/ledger_subject.py ingested into a fresh ledger schema of the
shared stack (dropped afterwards), then `READS` reads of a history page plus the
status as of the middle (`subject_reads`, the route functions), each with the
snapshots warm, alternately through snapshots that keep memos and through snapshots
that keep none, the collector tuned as the service runs it. Prints one JSON line:
the median process CPU (ms) of a read each way, and the wall time's median.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from datetime import timedelta

from bench.ledger_subject import one_subject, subject_reads
from services.ledger.ingest import Ingest
from services.ledger.ingest_postgres import PostgresLedger
from services.ledger.settings import LedgerSettings
from services.ledger.snapshots import Snapshots
from shared.adapters.collector import young_threshold
from shared.adapters.db import make_engine
from tests.support.infra import discover
from tests.support.ledger_harness import drop_schema, make_schema
from tests.support.ledger_workload import batches, records


async def run(events: int, reads: int) -> dict[str, object]:
    settings = LedgerSettings()
    with discover() as infra:
        schema = await make_schema(infra)
        engine = make_engine(infra.database_url, schema=schema)
        try:
            envelopes = one_subject(events)
            projector = settings.projector(PostgresLedger(engine))
            handler = Ingest(hand_over=projector.hand_over)
            for part in batches(records(envelopes), settings.batch_size):
                async with engine.begin() as conn:
                    await handler(conn, part)
            middle = envelopes[len(envelopes) // 2].time + timedelta(minutes=1)
            subject = envelopes[0].subject
            ways = {
                "memo": Snapshots(settings.snapshot_every, settings.snapshot_capacity),
                "no_memo": Snapshots(settings.snapshot_every, settings.snapshot_capacity, memos=0),
            }
            cpu: dict[str, list[float]] = {k: [] for k in ways}
            wall: dict[str, list[float]] = {k: [] for k in ways}
            with young_threshold(settings.gc_threshold):
                for snapshots in ways.values():
                    await subject_reads(engine, subject, middle, snapshots)  # warm
                for i in range(reads):
                    for name in sorted(ways, reverse=i % 2 == 1):
                        c, w = time.process_time(), time.perf_counter()
                        await subject_reads(engine, subject, middle, ways[name])
                        cpu[name].append(time.process_time() - c)
                        wall[name].append(time.perf_counter() - w)
            return {
                "events": events,
                "reads": reads,
                **{f"{k}_cpu_ms": round(1e3 * statistics.median(v), 1) for k, v in cpu.items()},
                **{f"{k}_wall_ms": round(1e3 * statistics.median(v), 1) for k, v in wall.items()},
            }
        finally:
            await engine.dispose()
            await drop_schema(infra, schema)


def main() -> None:
    events = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    reads = int(sys.argv[2]) if len(sys.argv) > 2 else 11
    print(json.dumps(asyncio.run(run(events, reads))))


if __name__ == "__main__":
    main()
