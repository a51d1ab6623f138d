"""The notifier's ingest, fed consumer records directly: statuses ingested per
CPU-second of this process (the notifier's side: Python, SQLAlchemy, asyncpg), and per
wall second, with the process's peak RSS and the CPU seconds of the Postgres server
processes that served the batches (`postgres_cpu_s`: what the statements cost on the
database's side of the same machine).

    python -m bench.notifier_ingest DEBTORS [--phase P] [--profile OUT.json]
    python -m bench.notifier_ingest --write FILE DEBTORS      (the records, once)
    python -m bench.notifier_ingest --records FILE --phase P  (one phase, own process)

The workload is the status stream a bulk court list makes (tests/support/
ledger_workload.py's `court_bulk`: every debtor designated with the full bundle, then
each task's feedback): after every event the subject's status as the ledger publishes
it (`status_envelope` of the folded state), on `jsb.status.v1` keyed by subject. Two
subscriptions (one for everything, one for court lists) so each status queues
deliveries. The clock runs over batches of `NotifierSettings.batch_size` records, each
in one transaction with its stored offsets, as `TransactionalConsumer` applies a
polled batch, with the collector set as the service sets it (`gc_threshold`). Not
through Kafka: the broker delivers far more than the notifier ingests.

Phases (tests/bench/test_notifier_ingest_bench.py runs each in its own process on the
same records file, read batch by batch so the records do not count in its RSS):

- `ingest`: `services.notifier.ingest.Ingest`, the service's handler.
- `previous`: the same handler with the decoder before this one
  (`status_decoder.judged`: pydantic, the envelope then the status).
- `bare` (the baseline): the floor of any ingest of these records — each record
  parsed (orjson) and inserted as (message id, subject, body) into a plain table
  without index, one transaction per batch with its offsets.

Prints one JSON line. A scratch schema, migrated (plain for `bare`), dropped at the
end. Database URLs from the environment, as the tests find them.
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
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson
from aiokafka import ConsumerRecord
from sqlalchemy import func, select, text

from bench.ledger_records import read
from bench.servers import cpu_seconds
from services.notifier import tables
from services.notifier.ingest import Ingest
from services.notifier.settings import NotifierSettings
from services.notifier.status_decoder import judged
from services.notifier.webhook_store import PostgresWebhooks
from shared.adapters import topics
from shared.adapters.collector import young_threshold
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
PHASES = ("ingest", "previous", "bare")


def status_records(debtors: int) -> Iterator[ConsumerRecord]:
    """One status message per event of a court list, in the order the ledger folds
    them."""
    states: dict[str, SubjectState] = {}
    offsets: dict[int, int] = {}
    for env in court_bulk(debtors).envelopes:
        state = states.get(env.subject) or SubjectState(subject_id=env.subject)
        state = states[env.subject] = evolve(state, Recorded(envelope=env, recorded_at=env.time))
        changed = status_envelope(
            render_status(state, env.time), env, source="/jsb/ledger", time=env.time
        )
        partition = zlib.crc32(env.subject.encode()) % PARTITIONS
        offset = offsets.get(partition, 0)
        offsets[partition] = offset + 1
        yield consumer_record(
            topics.STATUS, partition, offset, env.subject.encode(), changed.to_json_bytes()
        )


def write(path: Path, debtors: int) -> int:
    """The records into `path`, in bench/ledger_records.py's format; how many."""
    n = 0
    with path.open("wb") as out:
        for r in status_records(debtors):
            head = b"\t".join((r.topic.encode(), b"%d" % r.partition, b"%d" % r.offset))
            out.write(head + b"\t" + r.key + b"\t" + r.value + b"\n")
            n += 1
    return n


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


async def run(parts: Iterable[Sequence[ConsumerRecord]], phase: str = "ingest") -> dict[str, Any]:
    with discover() as infra, young_threshold(NotifierSettings().gc_threshold):
        if phase == "bare":
            return await _bare(infra, parts)
        return await _run(infra, parts, phase)


async def _run(
    infra: Infra, parts: Iterable[Sequence[ConsumerRecord]], phase: str
) -> dict[str, Any]:
    schema = "notifier_bench_" + unique()
    await asyncio.to_thread(_migrate, infra.admin_url, schema, infra.service_role)
    engine = make_engine(infra.database_url, schema=schema)
    try:
        await _subscribe(engine)
        ingest = Ingest(default_index(), PostgresWebhooks.on, "")
        if phase == "previous":
            ingest = Ingest(default_index(), PostgresWebhooks.on, "", decode=judged)
        timed = await _timed(parts, lambda conn, part: ingest(conn, part), engine)
        async with engine.connect() as conn:
            logged = await conn.scalar(select(func.count()).select_from(tables.status_log))
            queued = await conn.scalar(select(func.count()).select_from(tables.deliveries))
    finally:
        await engine.dispose()
        await drop_schema(infra, schema)
    return {**timed, "logged": logged, "deliveries": queued}


_BARE = text("INSERT INTO bare (message_id, subject, body) VALUES (:id, :subject, :body)")


async def _bare(infra: Infra, parts: Iterable[Sequence[ConsumerRecord]]) -> dict[str, Any]:
    """In a migrated schema, for its offsets table; the rows into a plain table."""
    schema = "notifier_bare_" + unique()
    await asyncio.to_thread(_migrate, infra.admin_url, schema, infra.service_role)
    engine = make_engine(infra.admin_url, schema=schema)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE bare (message_id uuid, subject text, body text)"))

        async def insert(conn: Any, part: Sequence[ConsumerRecord]) -> None:
            rows = []
            for r in part:
                doc = orjson.loads(r.value)
                rows.append(
                    {"id": UUID(doc["id"]), "subject": doc["subject"], "body": r.value.decode()}
                )
            await conn.execute(_BARE, rows)

        timed = await _timed(parts, insert, engine)
        async with engine.connect() as conn:
            logged = await conn.scalar(text("SELECT count(*) FROM bare"))
    finally:
        await engine.dispose()
        await drop_schema(infra, schema)
    return {**timed, "logged": logged}


async def _timed(
    parts: Iterable[Sequence[ConsumerRecord]],
    apply: Any,
    engine: Any,
) -> dict[str, Any]:
    """Each batch in one transaction with its offsets; CPU and wall time of this
    process over them (reading the next batch included: ~1 % of the cheapest phase)."""
    n, warm = 0, None
    backends: dict[int, float] = {}  # Postgres's server processes serving the batches
    cpu, wall = time.process_time(), time.perf_counter()
    for i, part in enumerate(parts):
        async with engine.begin() as conn:
            pid = int(await conn.scalar(_BACKEND) or 0)
            if pid not in backends:
                backends[pid] = cpu_seconds(pid)
            await apply(conn, part)
            await store_offsets(conn, tables.consumer_offsets, "bench", next_offsets(part))
        n += len(part)
        if i == WARM_UP:
            warm = _status_kb("VmRSS")
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    postgres = sum(cpu_seconds(pid) - start for pid, start in backends.items())
    return {
        "statuses": n,
        "batch": NotifierSettings().batch_size,
        "cpu_s": round(cpu, 3),
        "wall_s": round(wall, 3),
        "statuses_per_cpu_s": round(n / cpu, 1),
        "statuses_per_s": round(n / wall, 1),
        "postgres_cpu_s": round(postgres, 3),
        "rss_growth_mb": None if warm is None else round((_status_kb("VmRSS") - warm) / 1024, 1),
        "peak_rss_mb": round(_status_kb("VmHWM") / 1024, 1),
    }


_BACKEND = text("SELECT pg_backend_pid()")


def _status_kb(field: str) -> int:
    """This process's resident set now (VmRSS) or at its peak (VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("debtors", type=int, nargs="?")
    parser.add_argument("--phase", choices=PHASES, default="ingest")
    parser.add_argument("--records", type=Path, help="read the records from this file")
    parser.add_argument("--write", type=Path, help="write DEBTORS' records to this file")
    parser.add_argument("--profile", help="record this process with py-spy (speedscope)")
    args = parser.parse_args(argv)
    if args.write:
        print(json.dumps({"records": write(args.write, args.debtors)}), flush=True)
        return
    size = NotifierSettings().batch_size
    if args.records:
        parts: Iterable[Sequence[ConsumerRecord]] = read(args.records, size)
    else:
        parts = list(batches(list(status_records(args.debtors)), size))
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
        result = asyncio.run(run(parts, args.phase))
    finally:
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(timeout=60)
    print(json.dumps({"debtors": args.debtors, "phase": args.phase, **result}), flush=True)


if __name__ == "__main__":
    main()
