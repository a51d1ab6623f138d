"""The in-process restriction index's memory per subject, without a database:
`python -m bench.index_memory [subjects] [one|court] [trace]`.

Feeds `live_index.load` the rows the check bench's table holds (`one`: one row per
subject, as bench/check_data.py writes them) or a court debtor's 48 rows of one
designation (`court`), from a stand-in for the asyncpg connection that makes a fresh
string, float and UUID (asyncpg's type) per row as asyncpg's decoder does. Prints the
bytes held per subject once loaded (tracemalloc: Python's allocations, the load's own transient
objects gone), the peak during the load, and the process's RSS before, after and at
its peak (VmHWM) — each a run in its own process, so the peaks are the load's."""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import time
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path
from uuid import uuid4

from asyncpg.pgproto.pgproto import UUID

from services.responder.live_index import LiveIndex, load
from tests.unit.test_live_index import _Rows

DEPARTMENT = "caac"
COURT_ROWS = 48


def _status(field: str) -> float:
    """MB of a `/proc/self/status` field (VmRSS, VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


class _Conn(_Rows):
    """What `load` uses of an asyncpg connection (the live index's test's stand-in),
    rows made as they are read."""

    def __init__(self, subjects: int, rows_each: int) -> None:
        super().__init__([])
        self.subjects, self.rows_each = subjects, rows_each

    async def cursor(
        self, sql: str, *args: object, prefetch: int
    ) -> AsyncIterator[tuple[object, ...]]:
        since = time.time() - 86_400.0
        for n in range(self.subjects):
            subject = f"B{n:017d}"
            if "subject_identifiers" in sql:
                yield (subject, "".join(subject))
                continue
            designation = UUID(uuid4().bytes)  # asyncpg's own UUID type
            for i in range(self.rows_each):
                yield (
                    "".join(subject),
                    "".join(DEPARTMENT),
                    f"measure.{i}",
                    designation,
                    "".join("court.dishonest-debtor"),
                    since + n % 1000,
                    float("inf"),
                    i,
                )
            if n % prefetch == 0:
                await asyncio.sleep(0)  # a fetch of the next rows


async def _load(subjects: int, rows_each: int) -> LiveIndex:
    return await load(_Conn(subjects, rows_each), frozenset({DEPARTMENT}), "")  # type: ignore[arg-type,unused-ignore]


def measure(subjects: int, kind: str, trace: bool) -> dict[str, float]:
    """Bytes per subject by tracemalloc when `trace` (slower, and its own bookkeeping
    inflates the RSS), else the RSS figures alone."""
    rows_each = COURT_ROWS if kind == "court" else 1
    gc.collect()
    rss0 = _status("VmRSS")
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    index = asyncio.run(_load(subjects, rows_each))
    seconds = time.perf_counter() - started
    current, peak = tracemalloc.get_traced_memory() if trace else (0, 0)
    tracemalloc.stop()
    assert len(index) == subjects
    found = index.lookup(f"B{subjects - 1:017d}", DEPARTMENT, {"measure.0"}, time.time())
    assert len(found.reasons) == 1
    return {
        "subjects": subjects,
        "rows_each": rows_each,
        "bytes_per_subject": round(current / subjects, 1),
        "peak_bytes_per_subject": round(peak / subjects, 1),
        "rss_mb_before": round(rss0, 1),
        "rss_mb_after": round(_status("VmRSS"), 1),
        "rss_mb_peak": round(_status("VmHWM"), 1),
        "load_seconds": round(seconds, 2),
    }


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    kind = sys.argv[2] if len(sys.argv) > 2 else "one"
    print(json.dumps(measure(count, kind, trace="trace" in sys.argv[3:])))
