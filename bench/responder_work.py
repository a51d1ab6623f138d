"""The responder's own work per court designation, without Kafka:
`python -m bench.responder_work [designations] [rounds]`.

N court designations (48 tasks over 31 departments each) through the ingest (batches
of 50, real Postgres, a fresh schema), then every department's lanes (3 at once,
passes of 200) until no delivery is left; prints this process's CPU seconds for each
stage, on uvloop as the service runs. For a before/after in one run, alternate with
another checkout's code first on the path (`cd OTHER && PYTHONPATH=OTHER python
THIS/bench/responder_work.py`): it also runs on checkouts whose ingest takes no fold
memo. Figures:
docs/benchmarks.md, "The responder's CPU per debtor"."""

from __future__ import annotations

import asyncio
import gc
import inspect
import sys

import uvloop

from services.responder import execution
from services.responder.ingest import Ingest
from services.responder.lanes import Lanes
from shared.domain.envelope import Envelope
from tests.support.responder_bench import cpu, drained, fresh_harness
from tests.support.responder_harness import issue_command, run
from tests.support.subjects import new_resident_id
from tests.unit.domain_fixtures import Subject

COURT = "court.dishonest-debtor"


async def once(n: int) -> tuple[float, float]:
    """(ingest CPU s, lanes CPU s) for `n` new court designations."""
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
        used = cpu()
        for i in range(0, len(envelopes), 50):
            await h.feed(envelopes[i : i + 50])
        ingest = cpu() - used
        used = cpu()
        lanes = Lanes(h.store, h.hosting.departments, h.advance, concurrency=3)
        stop = asyncio.Event()
        running = asyncio.create_task(lanes.run(stop))
        await drained(h.engine)
        spent = cpu() - used
        stop.set()
        await running
        return ingest, spent


async def main(n: int, rounds: int) -> None:
    for _ in range(rounds):
        ingest, lanes = await once(n)
        print(f"{n} court designations: ingest cpu {ingest:.2f} s, lanes cpu {lanes:.2f} s")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    # On uvloop, as the service runs (bench.servers.UVICORN_FLAGS): asyncio's own
    # transports spent ~17 % of the lanes' samples in their Python socket writes.
    uvloop.run(main(args[0] if args else 100, args[1] if len(args) > 1 else 1))
