"""The soak's load on the ledger alone, in simulated time, to see what its memory
holds (issue 13 part 8; tests/reliability/test_soak.py runs the whole stack):

    python -m bench.ledger_soak [SECONDS] [--tracemalloc]

Each simulated second, `RATE` new court debtors are designated (one designation lane
batch) and the previous second's debtors get their 48 answers (one feedback lane
batch), through the ledger's real `Ingest` on a fresh schema of the shared stack —
what the soak's load (tests/support/crash_load.py: court debtors at 2/s, the
responder answering within a second) brings to the ledger. The fold cache runs on the
simulated clock, so its age bound acts as in real time. Prints a JSON line: RSS and
cache entries every 10 simulated seconds, the growth from the soak's 90 s warm-up to
the end and, with --tracemalloc, the allocations that grew most over that span
(by file and line).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys
import tracemalloc
from typing import Any

from bench.servers import peak_rss_mb
from services.ledger.fold_cache import FoldCache
from services.ledger.ingest import Ingest
from services.ledger.ingest_postgres import PostgresLedger
from services.ledger.projector import Projector
from services.ledger.settings import LedgerSettings
from shared.adapters.db import make_engine
from tests.support.infra import discover
from tests.support.ledger_harness import drop_schema, make_schema
from tests.support.ledger_workload import court_bulk, records

RATE = 2
WARM_UP_S = 90


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")  # pragma: no cover


async def soak(seconds: int, trace: bool) -> dict[str, Any]:
    settings = LedgerSettings()
    if settings.gc_threshold:
        gc.set_threshold(settings.gc_threshold, *gc.get_threshold()[1:])
    now = [0.0]
    cache = FoldCache(
        settings.fold_cache_subjects,
        max_age_s=settings.fold_cache_seconds,
        timer=lambda: now[0],
        max_events=settings.fold_cache_events,
    )
    samples: list[dict[str, float]] = []
    warm: tracemalloc.Snapshot | None = None
    with discover() as infra:
        schema = await make_schema(infra)
        engine = make_engine(infra.database_url, schema=schema)
        projector = Projector(PostgresLedger(engine), cache=cache)
        handler = Ingest(hand_over=projector.hand_over)
        try:
            if trace:
                tracemalloc.start(5)
            previous: list[Any] = []
            for second in range(seconds):
                now[0] = float(second)
                load = records(court_bulk(RATE, chunk=RATE, seed=second).envelopes)
                designations = [r for r in load if b"jsb.designation." in r.value[:200]]
                feedback = [r for r in load if r not in designations]
                for part in (designations, previous):
                    if part:
                        async with engine.begin() as conn:
                            await handler(conn, part)
                await projector.drain()  # the service's projector runs within the second
                previous = feedback
                if second % 10 == 0:
                    samples.append({"s": second, "rss_mb": round(rss_mb(), 1), "cache": len(cache)})
                if second == WARM_UP_S and trace:
                    gc.collect()
                    warm = tracemalloc.take_snapshot()
        finally:
            await engine.dispose()
            await drop_schema(infra, schema)
    out: dict[str, Any] = {
        "seconds": seconds,
        "events": handler.appended,
        "fold_cache": [settings.fold_cache_subjects, settings.fold_cache_seconds],
        "samples": samples,
        "peak_rss_mb": round(peak_rss_mb(os.getpid()), 1),
    }
    after = [s for s in samples if s["s"] >= WARM_UP_S]
    if after:
        out["rss_growth_after_warm_up"] = round(after[-1]["rss_mb"] / after[0]["rss_mb"] - 1, 3)
    if warm is not None:
        gc.collect()
        top = tracemalloc.take_snapshot().compare_to(warm, "lineno")[:15]
        out["grew_most"] = [
            {"where": str(s.traceback[0]), "kib": round(s.size_diff / 1024), "count": s.count_diff}
            for s in top
        ]
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("seconds", type=int, nargs="?", default=300)
    parser.add_argument("--tracemalloc", action="store_true")
    args = parser.parse_args()
    out = asyncio.run(soak(args.seconds, args.tracemalloc))
    sys.stdout.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
