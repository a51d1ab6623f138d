"""The check bench's data: N restricted subjects in a responder's restriction index.

Loaded straight into the index tables, not through the ingest (which would fold a
million histories first): `INSERT … SELECT generate_series` for the filler subjects,
server-side (faster than COPY from Python), and COPY for the subjects the load
generator asks about — valid USCCs, half of them restricted, half not listed.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import asyncpg
import httpx

from bench.servers import Server
from tests.support.stack import free_port
from tests.support.subjects import new_uscc

DEPARTMENT = "caac"
MEASURE = "travel.restrict_flight"
LIST_TYPE = "court.dishonest-debtor"
ASKED = 1000
"""Restricted subjects the load generator asks about (as many unlisted ones too)."""


@dataclass(frozen=True)
class Asked:
    blocked: list[str]
    allowed: list[str]

    def write_bodies(self, path: Path) -> Path:
        """One JSON body a line, a blocked and an allowed subject in turn."""
        lines = []
        for b, a in zip(self.blocked, self.allowed, strict=True):
            lines.append(json.dumps({"subject_id": b, "measure": MEASURE}))
            lines.append(json.dumps({"subject_id": a, "measure": MEASURE}))
        path.write_text("\n".join(lines) + "\n")
        return path


_FILL = """
WITH g AS (SELECT 'B' || lpad(n::text, 17, '0') AS s FROM generate_series($1::int, $2::int) n),
ids AS (INSERT INTO subject_identifiers (identifier, subject_id) SELECT s, s FROM g),
idx AS (
  INSERT INTO restriction_index
    (subject_id, department, measure, designation_id, list_type, active_from, active_until,
     ordinal)
  SELECT s, $3, $4, gen_random_uuid(), $5, now() - interval '1 day', NULL, 0 FROM g
)
INSERT INTO indexed_subjects (subject_id, position) SELECT s, 0 FROM g
"""


async def asked_subjects(dsn: str, schema: str) -> Asked:
    """The subjects the load generator asks about (the first ASKED restricted)."""
    blocked = [new_uscc() for _ in range(ASKED)]
    allowed = [new_uscc() for _ in range(ASKED)]
    conn = await asyncpg.connect(dsn, server_settings={"search_path": schema})
    try:
        async with conn.transaction():
            await conn.copy_records_to_table(
                "subject_identifiers", records=[(s, s) for s in blocked]
            )
            await conn.copy_records_to_table(
                "restriction_index",
                columns=[
                    "subject_id",
                    "department",
                    "measure",
                    "designation_id",
                    "list_type",
                    "active_from",
                    "ordinal",
                ],
                records=[
                    (s, DEPARTMENT, MEASURE, uuid4(), LIST_TYPE, _yesterday(), 0) for s in blocked
                ],
            )
    finally:
        await conn.close()
    return Asked(blocked, allowed)


async def fill(dsn: str, schema: str, start: int, stop: int) -> float:
    """Add restricted subjects number `start`…`stop - 1`; returns the seconds it took."""
    started = time.perf_counter()
    conn = await asyncpg.connect(dsn, server_settings={"search_path": schema})
    try:
        if stop > start:
            await conn.execute(_FILL, start, stop - 1, DEPARTMENT, MEASURE, LIST_TYPE)
    finally:
        await conn.close()
    return time.perf_counter() - started


_TABLES = ("subject_identifiers", "restriction_index", "indexed_subjects")


async def settle(admin_dsn: str, schema: str) -> float:
    """After a fill, bring the database to rest before measuring: VACUUM (ANALYZE) the
    filled tables, then CHECKPOINT; returns the seconds it took (as the tables' owner:
    the services' role may not). Why: a million rows written in one statement leave
    Postgres with their dirty pages to write back and the tables to vacuum (autovacuum
    picks an insert-only table up after 20 % new rows), work that otherwise runs while
    the responder is measured and slows the journal's commits (the 1M size's group
    statement took 1.6x the 10k's with the responder's CPU per check at 1.02x;
    docs/benchmarks.md "Check API"). The bench measures the responder's index at that
    size, not Postgres digesting the bench's own bulk load."""
    started = time.perf_counter()
    conn = await asyncpg.connect(admin_dsn, server_settings={"search_path": schema})
    try:
        for table in _TABLES:
            await conn.execute(f"VACUUM (ANALYZE) {table}")
        await conn.execute("CHECKPOINT")
    finally:
        await conn.close()
    return time.perf_counter() - started


async def decisions(dsn: str, schema: str) -> dict[str, int]:
    """Checks recorded so far by decision, and the interceptions in the outbox."""
    conn = await asyncpg.connect(dsn, server_settings={"search_path": schema})
    try:
        rows = await conn.fetch("SELECT decision, count(*) AS n FROM checks GROUP BY decision")
        out = {r["decision"]: int(r["n"]) for r in rows}
        out["interceptions"] = int(await conn.fetchval("SELECT count(*) FROM outbox") or 0)
        return out
    finally:
        await conn.close()


def wait_index_loaded(url: str, subjects: int, timeout_s: float = 300) -> float:
    """Seconds until the responder at `url` holds its index in memory (its gauge says
    how many restricted subjects); checks read the table until then."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        try:  # a poll slower than its own timeout is not the end of the wait
            metrics = httpx.get(url + "/metrics", timeout=10).text
        except httpx.TimeoutException:
            continue
        for line in metrics.splitlines():
            if line.startswith("responder_index_subjects ") and float(line.split()[1]) >= subjects:
                return time.monotonic() - started
        time.sleep(0.2)
    raise TimeoutError(f"the in-process index did not load in {timeout_s}s")


def wait_ready(url: str, timeout_s: float = 120) -> float:
    """Seconds until the responder at `url` says it is ready (`/readyz` 200): until its
    ingest has caught up with the broker once, a check is a 503 `data_not_caught_up`.
    A responder on fresh topics and a consumer group of its own joins the group first
    (seconds): measured before that, its checks were errors."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        try:
            if httpx.get(url + "/readyz", timeout=10).status_code == 200:
                return time.monotonic() - started
        except httpx.TimeoutException:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"the responder was not ready in {timeout_s}s")


def _yesterday() -> datetime:
    return datetime.now(UTC) - timedelta(days=1)


def prepare(dsn: str, admin_dsn: str, schema: str, subjects: int) -> Asked:
    """A fresh schema's index at `subjects` restricted subjects, settled: the asked
    subjects, the fillers, then `settle` (as the check bench does)."""
    asked = asyncio.run(asked_subjects(dsn, schema))
    asyncio.run(fill(dsn, schema, len(asked.blocked), subjects))
    asyncio.run(settle(admin_dsn, schema))
    return asked


def responder(schema: str, topics: str, tokens: Path, log_path: Path) -> Server:
    """A responder hosting `DEPARTMENT` on `schema`, at WARNING, on a free port (not
    started)."""
    return Server(
        "services.responder.app:app",
        free_port(),
        {
            "JSB_TOKENS_FILE": str(tokens),
            "JSB_TOPIC_SUFFIX": topics,
            "JSB_RESPONDER_DB_SCHEMA": schema,
            "JSB_RESPONDER_DEPARTMENTS": DEPARTMENT,
            "JSB_LOG_LEVEL": "WARNING",
        },
        log_path,
    )
