"""The notifier's ingest, fed consumer records directly: statuses ingested per
CPU-second of this process (the notifier's side: Python, SQLAlchemy, asyncpg), and per
wall second.

    python -m bench.notifier_ingest DEBTORS [--profile OUT.json]

The workload is the status stream a bulk court list makes (tests/support/
ledger_workload.py's `court_bulk`: every debtor designated with the full bundle, then
each task's feedback): after every event the subject's status as the ledger publishes
it (`status_envelope` of the folded state), on `jsb.status.v1` keyed by subject. Two
subscriptions (one for everything, one for court lists) so each status queues
deliveries. The records are built outside the clock; the clock runs over the
`Ingest` handler applying batches of `NotifierSettings.batch_size` records, each in
one transaction with its stored offsets, as `TransactionalConsumer` applies a polled
batch. Not through Kafka: the broker delivers far more than the notifier ingests.

Also the growth of the resident set from after the first batches to the end (what
ingest keeps: caches, compiled statements). Prints one JSON line. A scratch schema,
migrated, dropped at the end. Database URLs from the environment, as the tests find
them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aiokafka import ConsumerRecord
from sqlalchemy import func, select

from services.notifier import tables
from services.notifier.ingest import Ingest
from services.notifier.settings import NotifierSettings
from services.notifier.webhook_store import PostgresWebhooks
from shared.adapters import topics
from shared.adapters.consumer import next_offsets, store_offsets
from shared.adapters.db import make_engine
from shared.domain.catalogue.index import default_index
from shared.domain.fold import Recorded, evolve
from shared.domain.fold_state import SubjectState
from shared.domain.status_view import render_status, status_envelope
from tests.support.infra import Infra, discover, unique
from tests.support.ledger_harness import drop_schema
from tests.support.ledger_workload import batches, consumer_record, court_bulk

PARTITIONS = 3
WARM_UP = 5
"""Batches before the resident set is first read."""


def status_records(debtors: int) -> list[ConsumerRecord]:
    """One status message per event of a court list, in the order the ledger folds
    them."""
    states: dict[str, SubjectState] = {}
    offsets: dict[int, int] = {}
    out = []
    for env in court_bulk(debtors).envelopes:
        state = states.get(env.subject) or SubjectState(subject_id=env.subject)
        state = states[env.subject] = evolve(state, Recorded(envelope=env, recorded_at=env.time))
        changed = status_envelope(
            render_status(state, env.time), env, source="/jsb/ledger", time=env.time
        )
        partition = zlib.crc32(env.subject.encode()) % PARTITIONS
        offset = offsets.get(partition, 0)
        offsets[partition] = offset + 1
        out.append(
            consumer_record(
                topics.STATUS, partition, offset, env.subject.encode(), changed.to_json_bytes()
            )
        )
    return out


def _migrate(admin_url: str, schema: str, role: str | None) -> None:
    from alembic import command

    from shared.adapters.migrations import config

    command.upgrade(config("notifier", admin_url, schema, role), "head")


async def _subscribe(engine: Any) -> None:
    """Two subscriptions, straight into the table (no secret is needed to queue)."""
    from uuid import uuid4

    async with engine.begin() as conn:
        for name, filters in (("all", {}), ("court", {"list_types": ["court.dishonest-debtor"]})):
            await conn.execute(
                tables.subscriptions.insert().values(
                    id=uuid4(),
                    name=name,
                    url="https://receiver.example/hook",
                    filters=filters,
                    state="enabled",
                    created_by="bench",
                )
            )


async def run(records: Sequence[ConsumerRecord]) -> dict[str, Any]:
    with discover() as infra:
        return await _run(infra, records)


async def _run(infra: Infra, records: Sequence[ConsumerRecord]) -> dict[str, Any]:
    size = NotifierSettings().batch_size
    schema = "notifier_bench_" + unique()
    await asyncio.to_thread(_migrate, infra.admin_url, schema, infra.service_role)
    engine = make_engine(infra.database_url, schema=schema)
    try:
        await _subscribe(engine)
        ingest = Ingest(default_index(), PostgresWebhooks.on, "")
        cpu, wall = time.process_time(), time.perf_counter()
        warm = None
        for n, part in enumerate(batches(records, size)):
            await _apply(engine, ingest, part)
            if n == WARM_UP:
                warm = _rss_kb()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        grown = None if warm is None else round((_rss_kb() - warm) / 1024, 1)
        async with engine.connect() as conn:
            logged = await conn.scalar(select(func.count()).select_from(tables.status_log))
            queued = await conn.scalar(select(func.count()).select_from(tables.deliveries))
    finally:
        await engine.dispose()
        await drop_schema(infra, schema)
    return {
        "statuses": len(records),
        "batch": size,
        "logged": logged,
        "deliveries": queued,
        "cpu_s": round(cpu, 3),
        "wall_s": round(wall, 3),
        "statuses_per_cpu_s": round(len(records) / cpu, 1),
        "statuses_per_s": round(len(records) / wall, 1),
        "mean_kb": round(sum(len(r.value) for r in records) / len(records) / 1024, 1),
        "rss_growth_mb": grown,
    }


def _rss_kb() -> int:
    """This process's resident set now (VmRSS). Its peak is the records built before
    the clock; what ingest keeps shows as growth after the warm-up batches."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def _apply(engine: Any, ingest: Ingest, part: Sequence[ConsumerRecord]) -> None:
    async with engine.begin() as conn:
        await ingest(conn, part)
        await store_offsets(conn, tables.consumer_offsets, "bench", next_offsets(part))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("debtors", type=int)
    parser.add_argument("--profile", help="record this process with py-spy (speedscope)")
    args = parser.parse_args(argv)
    records = status_records(args.debtors)
    spy = None
    if args.profile:  # py-spy beside this process, from after the records are built
        spy_bin = str(Path(sys.executable).parent / "py-spy")
        command = ["record", "-f", "speedscope", "-o", args.profile, "-r", "200"]
        spy = subprocess.Popen(
            [spy_bin, *command, "-p", str(os.getpid())],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1.0)
    try:
        result = asyncio.run(run(records))
    finally:
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(timeout=60)
    print(json.dumps({"debtors": args.debtors, **result}), flush=True)


if __name__ == "__main__":
    main()
