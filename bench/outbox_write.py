"""The shared outbox's two write paths in one process: `python -m bench.outbox_write
[--rows N] [--rounds R]`.

For batches of 1, 10, 100 and 1,000 rows, each in its own transaction (as a service
enqueues them: `engine.begin()`, the enqueue, the commit), alternately by INSERT (the
path every batch took before the COPY threshold: SQLAlchemy's executemany) and by
binary COPY, `rounds` times each: rows/s, this process's CPU per row and the CPU of
the Postgres backend serving it per row (its /proc/<pid>/stat; 10 ms ticks, so
enough rows for a few hundred ticks). At most `--max-transactions` transactions a
size and round (each commit waits for its flush: ~300/s on this machine). The rows are
feedback-like: a ~700-byte value and four headers. Prints one JSON line, the medians
and the COPY/INSERT ratios. Figures: docs/benchmarks.md, "One outbox write path".
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Sequence
from typing import Any
from uuid import uuid4

from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.servers import cpu_seconds
from shared.adapters.db import make_engine
from shared.adapters.outbox import OutboxMessage, enqueue, outbox_table
from tests.support.infra import discover

SIZES = (1, 10, 100, 1000)
PATHS = {"insert": 10**9, "copy": 1}
"""Each path as the threshold that makes every batch take it."""


def _messages(n: int) -> list[OutboxMessage]:
    return [
        OutboxMessage(
            "jsb.feedback.v1",
            f"subject-{i:08d}",
            b"x" * 700,
            {"jsb-event-id": str(uuid4()), "jsb-type": "feedback", "jsb-v": "1", "n": str(i)},
        )
        for i in range(n)
    ]


async def _round(
    engine: AsyncEngine, table: Any, size: int, rows: int, threshold: int, max_transactions: int
) -> dict[str, float]:
    batch = _messages(size)
    async with engine.connect() as conn:
        backend = int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())
    transactions = max(1, min(rows // size, max_transactions))
    wall0, cpu0, pg0 = time.perf_counter(), time.process_time(), cpu_seconds(backend)
    for _ in range(transactions):
        async with engine.begin() as conn:
            await enqueue(conn, table, batch, copy_threshold=threshold)
    wall = time.perf_counter() - wall0
    cpu, pg = time.process_time() - cpu0, cpu_seconds(backend) - pg0
    written = transactions * size
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {table.name}"))
    return {
        "rows_per_s": written / wall,
        "cpu_us_per_row": cpu * 1e6 / written,
        "pg_cpu_us_per_row": pg * 1e6 / written,
    }


async def run(
    rows: int, rounds: int, sizes: Sequence[int], max_transactions: int
) -> dict[str, Any]:
    schema = "bench_outbox_" + uuid4().hex[:8]
    with discover() as infra:
        admin = make_engine(infra.admin_url)
    async with admin.begin() as conn:
        await conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine = make_engine(infra.admin_url, schema=schema, pool_size=1)
    table = outbox_table(MetaData())
    try:
        async with engine.begin() as conn:
            await conn.run_sync(table.metadata.create_all)
        for size in sizes:  # warm both paths: prepared statements, the COPY's type query
            for threshold in PATHS.values():
                await _round(engine, table, size, size, threshold, 1)
        found: dict[str, dict[str, list[dict[str, float]]]] = {
            str(s): {p: [] for p in PATHS} for s in sizes
        }
        for _ in range(rounds):
            for size in sizes:
                for path, threshold in PATHS.items():
                    found[str(size)][path].append(
                        await _round(engine, table, size, rows, threshold, max_transactions)
                    )
    finally:
        await engine.dispose()
        async with admin.begin() as conn:
            await conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        await admin.dispose()
    result: dict[str, Any] = {"rows_per_size": rows, "rounds": rounds, "sizes": {}}
    for key, paths in found.items():
        medians = {
            path: {k: round(statistics.median(r[k] for r in runs), 2) for k in runs[0]}
            for path, runs in paths.items()
        }
        ratios = {k: round(medians["copy"][k] / medians["insert"][k], 2) for k in medians["copy"]}
        result["sizes"][key] = {**medians, "copy_over_insert": ratios}
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10000, help="rows per size and round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument(
        "--max-transactions", type=int, default=1000, help="(a commit waits for its flush)"
    )
    args = parser.parse_args()
    result = run(args.rows, args.rounds, args.sizes, args.max_transactions)
    print(json.dumps(asyncio.run(result)))


if __name__ == "__main__":
    main()
