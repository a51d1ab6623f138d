"""One long subject's reads in process CPU time, another commit's code against this
checkout's, alternated on the same stored subject:

    python -m bench.ledger_read_cpu <commit-before> [ROUNDS] [EVENTS]

The subject of bench/ledger_subject.py (`EVENTS`, default 10,000) ingested once, its
snapshots stored every K, into a fresh ledger schema of the shared stack (dropped
afterwards); then, the order of the two codes swapped every round, a process of each
code's own (the commit exported with `git archive`) reads it through the route
functions as the scale bench's phase does (a history page plus the status as of the
middle, an `ops` caller): the process's first read, a cold one (new in-memory
snapshots), then the best of three warm ones. Process CPU rather than wall: on the
shared 2-core machine the wall of a read moved 2-3x between rounds of the same code
(docs/benchmarks.md, "One subject's reads (session 10)"). Prints one JSON line per
process, then the medians and ratios.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.ledger_read_first import _ingest
from bench.trees import alternated, export, phase_result
from services.ledger.settings import LedgerSettings
from shared.adapters.settings import PROJECT_ROOT
from tests.support.infra import discover
from tests.support.ledger_harness import drop_schema, make_schema

READER = """
import asyncio, gc, json, sys, time
from datetime import datetime
from bench.ledger_subject import subject_reads
from services.ledger import tables
from services.ledger.settings import LedgerSettings
from services.ledger.snapshot_store_postgres import stored_snapshots
from services.ledger.snapshots import Snapshots
from services.ledger.store import PostgresEventStore
from shared.adapters.db import make_engine
from tests.support.infra import discover

gc.set_threshold({threshold}, *gc.get_threshold()[1:])

async def main():
    settings = LedgerSettings()
    with discover() as infra:
        engine = make_engine(infra.database_url, schema="{schema}")
        events = PostgresEventStore(engine, tables.events)
        stored = stored_snapshots(engine, events, settings.snapshot_every)
        async with engine.connect():
            pass
        as_of = datetime.fromisoformat("{as_of}")
        out = {{}}
        def fresh():
            s = Snapshots(settings.snapshot_every, settings.snapshot_capacity)
            s.stored = stored
            return s
        snapshots = fresh()
        for read in ("first", "cold", "warm", "warm", "warm"):
            if read == "cold":
                snapshots = fresh()
            c, w = time.process_time(), time.perf_counter()
            await subject_reads(engine, "{subject}", as_of, snapshots)
            cpu, wall = time.process_time() - c, time.perf_counter() - w
            best = out.get(read)
            if best is None or cpu < best[0]:
                out[read] = [round(1e3 * cpu, 1), round(1e3 * wall, 1)]
        await engine.dispose()
    print(json.dumps(out))

asyncio.run(main())
"""


def main() -> None:
    commit = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    events = int(sys.argv[3]) if len(sys.argv) > 3 else 10_000
    with tempfile.TemporaryDirectory(prefix="jsb-ledger-read-cpu-") as tmp:
        before = export(commit, Path(tmp) / "before")
        asyncio.run(_compare(before, rounds, events))


async def _compare(before: Path, rounds: int, events: int) -> None:
    threshold = LedgerSettings().gc_threshold or 700
    runs: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
    with discover() as infra:
        schema = await make_schema(infra)
        try:
            subject, middle = await _ingest(schema, events)
            code = READER.format(threshold=threshold, schema=schema, subject=subject, as_of=middle)
            trees = [("before", before), ("after", PROJECT_ROOT)]
            for n, name, tree in alternated(trees, rounds):
                env = {**os.environ, "PYTHONPATH": str(tree)}
                # the reader imports this checkout's bench/ledger_subject.py on both sides
                env["PYTHONPATH"] += os.pathsep + str(PROJECT_ROOT)
                run = await asyncio.to_thread(phase_result, [sys.executable, "-c", code], tree, env)
                runs[name].append(run)
                print(json.dumps({"code": name, "round": n, **run}), flush=True)
        finally:
            await drop_schema(infra, schema)
    summary: dict[str, Any] = {"events": events, "rounds": rounds}
    for read in ("first", "cold", "warm"):
        cpu = {k: statistics.median(r[read][0] for r in v) for k, v in runs.items()}
        summary[read] = {
            "cpu_ms": {k: round(v, 1) for k, v in cpu.items()},
            "ratio": round(cpu["after"] / cpu["before"], 2),
        }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
