"""The responder's own work per court designation, without Kafka:
`python -m bench.responder_work [designations] [rounds] [--tables]`.

N court designations (48 tasks over 31 departments each) through the ingest (batches
of 50, real Postgres, a fresh schema), then every department's lanes (3 at once,
passes of 200) until no delivery is left; prints this process's CPU seconds for each
stage, on uvloop as the service runs, and the CPU of the Postgres backends that served
the stage (the harness's connections, named after its schema: bench/machine_cpu.py);
with `--tables`, each responder table's rows inserted, updated and deleted, and its
indexes' sizes, after the run. For a before/after in one run, alternate with
another checkout's code first on the path (`cd OTHER && PYTHONPATH=OTHER python
THIS/bench/responder_work.py`): it also runs on checkouts whose ingest takes no fold
memo. Figures:
docs/benchmarks.md, "The responder's CPU per debtor"."""

from __future__ import annotations

import asyncio
import gc
import inspect
import os
import sys
from typing import Any

import asyncpg
import uvloop
from sqlalchemy import text

from bench.machine_cpu import MachineCpu
from bench.pipeline import pg_url
from services.responder import execution
from services.responder.ingest import Ingest
from services.responder.lanes import Lanes
from shared.adapters.migrations import DEFAULT_ADMIN_URL
from shared.domain.envelope import Envelope
from tests.support.responder_bench import cpu, drained, fresh_harness
from tests.support.responder_harness import issue_command, run
from tests.support.subjects import new_resident_id
from tests.unit.domain_fixtures import Subject

COURT = "court.dishonest-debtor"


ADMIN_URL = pg_url(os.environ.get("DATABASE_ADMIN_URL", DEFAULT_ADMIN_URL))

TABLE_STATS = """
SELECT t.relname, t.n_tup_ins, t.n_tup_upd, t.n_tup_hot_upd, t.n_tup_del,
       pg_relation_size(t.relid) AS heap_bytes,
       (SELECT coalesce(json_object_agg(i.indexrelname, pg_relation_size(i.indexrelid)), '{}')
        FROM pg_stat_user_indexes i WHERE i.relid = t.relid) AS indexes
FROM pg_stat_user_tables t WHERE t.schemaname = $1 ORDER BY t.relname
"""


async def table_stats(schema: str) -> list[dict[str, Any]]:
    """Each table's rows written and its indexes' sizes (bytes)."""
    await asyncio.sleep(1.0)  # the statistics are flushed at most once a second
    conn = await asyncpg.connect(ADMIN_URL)
    try:
        return [dict(r) for r in await conn.fetch(TABLE_STATS, schema)]
    finally:
        await conn.close()


def backends_s(machine: MachineCpu) -> float:
    return float(machine.result()["postgres_backends_s"])


async def once(n: int, tables: bool = False) -> tuple[float, float, float, float]:
    """(ingest CPU s, lanes CPU s, their Postgres backends' CPU s) for `n` new court
    designations."""
    envelopes: list[Envelope] = []
    for _ in range(n):
        person = Subject(new_resident_id())
        envelopes += run(person, issue_command(person.subject_id, COURT, "court"))
    # The records to feed are not the responder's heap: out of the collector's sight,
    # as the service's start-up heap is (live_index.py). Without it, a full collection
    # over them landed in whatever the lanes allocated (py-spy charged ~150 us to each
    # designation's task-id hash).
    gc.collect()
    gc.freeze()
    async with fresh_harness() as h:
        h.ctx = execution.Context(h.hosting, h.suffix, batch=200)  # the service's batch
        if "memo" in inspect.signature(Ingest).parameters:  # as the service wires it
            h.ingest = Ingest(h.hosting, h.suffix, memo=h.ctx.memo)
        async with h.engine.connect() as conn:
            schema = str(await conn.scalar(text("SELECT current_schema()")))
        with MachineCpu(ADMIN_URL, {"responder": schema}) as fed:
            used = cpu()
            for i in range(0, len(envelopes), 50):
                await h.feed(envelopes[i : i + 50])
            ingest = cpu() - used
        with MachineCpu(ADMIN_URL, {"responder": schema}) as applied:
            used = cpu()
            lanes = Lanes(h.store, h.hosting.departments, h.advance, concurrency=3)
            stop = asyncio.Event()
            running = asyncio.create_task(lanes.run(stop))
            await drained(h.engine)
            spent = cpu() - used
            stop.set()
            await running
        if tables:
            for row in await table_stats(schema):
                print(row)
        return ingest, spent, backends_s(fed), backends_s(applied)


async def main(n: int, rounds: int, tables: bool) -> None:
    for _ in range(rounds):
        ingest, lanes, pg_ingest, pg_lanes = await once(n, tables)
        print(
            f"{n} court designations: ingest cpu {ingest:.2f} s, lanes cpu {lanes:.2f} s;"
            f" postgres backends: ingest {pg_ingest:.2f} s, lanes {pg_lanes:.2f} s",
            flush=True,
        )


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:] if a.isdigit()][:2]
    # On uvloop, as the service runs (bench.servers.UVICORN_FLAGS): asyncio's own
    # transports spent ~17 % of the lanes' samples in their Python socket writes.
    uvloop.run(
        main(args[0] if args else 100, args[1] if len(args) > 1 else 1, "--tables" in sys.argv)
    )
