"""The departments' passes over a court list, on the real Postgres (no Kafka):
`python -m tests.support.responder_pass_bench [designations]`. Feeds N court
designations (48 tasks over 31 departments each) through the ingest, then times
every department's lanes (3 at once) until no delivery is left: wall, this process's
CPU, and — on a second fresh schema, under `tracemalloc` — the Python heap's peak
during the lanes (the transient a pass holds, which sets the RSS: docs/reliability.md,
"Soak"). Run it from two checkouts in turn for a before/after in one run. Nothing
here runs in the test suite."""

from __future__ import annotations

import asyncio
import sys
import time
import tracemalloc

from services.responder.lanes import Lanes
from shared.domain.envelope import Envelope
from tests.support.responder_bench import cpu, drained, fresh_harness
from tests.support.responder_harness import issue_command, run
from tests.support.subjects import new_resident_id
from tests.unit.domain_fixtures import Subject

COURT = "court.dishonest-debtor"


async def lanes_over(envelopes: list[Envelope], traced: bool) -> tuple[float, float, float]:
    """(wall s, CPU s, traced peak MB or 0) of the lanes applying `envelopes`."""
    async with fresh_harness() as h:
        for i in range(0, len(envelopes), 50):
            await h.feed(envelopes[i : i + 50])
        if traced:
            tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        wall, used = time.perf_counter(), cpu()
        lanes = Lanes(h.store, h.hosting.departments, h.advance, concurrency=3)
        stop = asyncio.Event()
        running = asyncio.create_task(lanes.run(stop))
        await drained(h.engine)
        elapsed, spent = time.perf_counter() - wall, cpu() - used
        peak = (tracemalloc.get_traced_memory()[1] - base) / 1e6
        tracemalloc.stop()
        stop.set()
        await running
        return elapsed, spent, peak


async def bench(n: int) -> None:
    envelopes: list[Envelope] = []
    for _ in range(n):
        person = Subject(new_resident_id())
        envelopes += run(person, issue_command(person.subject_id, COURT, "court"))
    tasks = sum(len(e.data["tasks"]) for e in envelopes)
    wall, spent, _ = await lanes_over(envelopes, traced=False)
    print(f"{n} court designations, {tasks} tasks: lanes {wall:.2f} s, cpu {spent:.2f} s")
    _, _, peak = await lanes_over(envelopes, traced=True)
    print(f"python heap peak during the lanes: {peak:.1f} MB")


if __name__ == "__main__":
    asyncio.run(bench(int(sys.argv[1]) if len(sys.argv) > 1 else 100))
