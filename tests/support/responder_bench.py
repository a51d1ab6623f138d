"""Measure the responder's two stages and its check on the real Postgres (no Kafka):
`python -m tests.support.responder_bench [designations]`. Numbers go to
docs/responder.md; nothing here runs in the test suite."""

from __future__ import annotations

import asyncio
import resource
import statistics
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.responder import checks
from services.responder.hosting import Hosting
from services.responder.lanes import Lanes
from services.responder.schemas import CheckCreate
from shared.adapters.db import make_engine
from shared.adapters.migrations import DEFAULT_ADMIN_URL, upgrade
from shared.adapters.settings import DEFAULT_DATABASE_URL
from shared.domain.catalogue.index import default_index
from tests.support.infra import unique
from tests.support.responder_harness import Harness, hosting, issue_command, run
from tests.support.subjects import new_uscc
from tests.unit.domain_fixtures import Subject

TAX = "tax.major-violation"


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def drained(engine: AsyncEngine) -> None:
    """Until every department has applied every delivery (feedback is batched, so the
    outbox holds fewer rows than tasks: counting them never reached the tasks)."""
    while True:
        async with engine.connect() as conn:
            if not await conn.scalar(text("SELECT count(*) FROM deliveries")):
                return
        await asyncio.sleep(0.1)


@asynccontextmanager
async def fresh_harness(
    hosted: Hosting | None = None,
    database_url: str = DEFAULT_DATABASE_URL,
    admin_url: str = DEFAULT_ADMIN_URL,
    role: str | None = "jsb",
) -> AsyncIterator[Harness]:
    """A harness on a fresh schema, dropped afterwards; `hosted`: every department,
    every measure automatic, unless given."""
    schema = "responder_" + unique("bench")
    await asyncio.to_thread(upgrade, "responder", url=admin_url, schema=schema, role=role)
    engine = make_engine(database_url, schema=schema)
    try:
        h = Harness(engine, hosted or hosting(), "." + unique())
        await h.ensure()
        yield h
    finally:
        await engine.dispose()
        admin = make_engine(admin_url)
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await admin.dispose()


async def bench(n: int) -> None:
    async with fresh_harness() as h:
        engine = h.engine
        subjects = [Subject(new_uscc()) for _ in range(n)]
        envelopes = [run(s, issue_command(s.subject_id, TAX, "tax"))[0] for s in subjects]
        tasks = sum(len(e.data["tasks"]) for e in envelopes)

        wall, used = time.perf_counter(), cpu()
        for i in range(0, n, 100):
            await h.feed(envelopes[i : i + 100])
        print(
            f"ingest: {n} designations in {time.perf_counter() - wall:.2f}s "
            f"(cpu {cpu() - used:.2f}s)"
        )

        wall, used = time.perf_counter(), cpu()
        lanes = Lanes(h.store, h.hosting.departments, h.advance, concurrency=3)
        stop = asyncio.Event()
        running = asyncio.create_task(lanes.run(stop))
        await drained(engine)
        elapsed = time.perf_counter() - wall
        stop.set()
        await running
        print(
            f"departments: {tasks} tasks executed and reported in {elapsed:.2f}s "
            f"({tasks / elapsed:.0f}/s, cpu {cpu() - used:.2f}s)"
        )

        catalogue = default_index()
        latencies = []
        used = cpu()
        for i in range(500):
            body = CheckCreate(
                subject_id=subjects[i % n].subject_id,
                measure="procurement.restrict_government_procurement",
            )
            started = time.perf_counter()
            async with engine.begin() as conn:
                answer = await checks.answer(
                    conn,
                    body,
                    "mof",
                    catalogue,
                    as_of=datetime.now(UTC),
                    fresh_as_of=None,
                    suffix=h.suffix,
                )
            latencies.append(time.perf_counter() - started)
            assert answer.decision == "block"
        latencies.sort()
        print(
            f"checks (block, recorded + intercepted, in-process): p50 "
            f"{statistics.median(latencies) * 1000:.1f} ms, p99 "
            f"{latencies[int(len(latencies) * 0.99)] * 1000:.1f} ms, cpu "
            f"{(cpu() - used) / len(latencies) * 1000:.2f} ms each"
        )


if __name__ == "__main__":
    asyncio.run(bench(int(sys.argv[1]) if len(sys.argv) > 1 else 200))
