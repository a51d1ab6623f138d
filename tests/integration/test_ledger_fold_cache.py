"""The fold cache never serves a state the store does not hold: batches that roll
back after handing their events over to the projector, other histories of the same
length, retries of the same batch — the live projections still equal a rebuild from
the events, and the cache is used where it can be (services/ledger/fold_cache.py and
services/ledger/pending.py say why)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.ledger import store, tables
from services.ledger.fold_cache import FoldCache
from services.ledger.ingest import Ingest
from services.ledger.ingest_postgres import PostgresLedger
from services.ledger.projector import Projector
from services.ledger.read_models import refresh
from services.ledger.read_models.rows import project
from shared.adapters.db import make_engine
from shared.domain.envelope import Envelope
from tests.support.infra import Infra
from tests.support.ledger_events import Script, feedback
from tests.support.ledger_harness import drop_schema, make_schema
from tests.support.ledger_workload import records
from tests.support.subjects import new_resident_id

pytestmark = pytest.mark.integration


class Crash(Exception):
    pass


@pytest.fixture
async def engine(infra: Infra) -> AsyncIterator[AsyncEngine]:
    schema = await make_schema(infra)
    engine = make_engine(infra.database_url, schema=schema)
    try:
        yield engine
    finally:
        await engine.dispose()
        await drop_schema(infra, schema)


async def _rows(engine: AsyncEngine) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    async with engine.connect() as conn:
        for table in tables.PROJECTIONS:
            rows = await conn.execute(select(table).order_by(*table.primary_key.columns))
            out[table.name] = [tuple(r) for r in rows]
    return out


async def _stored_rows(engine: AsyncEngine, subject: str) -> dict[str, list[dict[str, Any]]]:
    out = {}
    async with engine.connect() as conn:
        for table in tables.PROJECTIONS:
            rows = await conn.execute(select(table).where(table.c.subject_id == subject))
            out[table.name] = _sorted(table, [dict(r._mapping) for r in rows])
    return out


def _sorted(table: Table, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    key = [c.name for c in table.primary_key.columns]
    return sorted(rows, key=lambda r: tuple(str(r[k]) for k in key))


async def _pure_rows(engine: AsyncEngine, subject: str) -> dict[str, list[dict[str, Any]]]:
    """The rows `project` makes of the stored events: what the writer must have stored
    (it sends some values differently: arrays as JSON, views taken from the status)."""
    async with engine.connect() as conn:
        p = project(subject, await store.stream(conn, tables.events, subject))
    by_table = {
        tables.subject_status.name: [p.status_row],
        tables.subject_identifiers.name: p.identifiers,
        tables.designations.name: p.designations,
        tables.tasks.name: p.tasks,
        tables.public_entries.name: p.public_entries,
    }
    return {t.name: _sorted(t, by_table[t.name]) for t in tables.PROJECTIONS}


@dataclass
class Instance:
    """A ledger instance: its ingest hands its events over to its projector."""

    engine: AsyncEngine
    projector: Projector = field(init=False)
    ingest: Ingest = field(init=False)

    def __post_init__(self) -> None:
        self.projector = Projector(PostgresLedger(self.engine))
        self.ingest = Ingest(hand_over=self.projector.hand_over)

    @property
    def cache(self) -> FoldCache:
        return self.projector.cache


async def test_rolled_back_batches_leave_no_wrong_state_behind(engine: AsyncEngine) -> None:
    s = Script(new_resident_id())
    issued = s.issue(list_type="court.dishonest-debtor", level="especially_serious")
    fb = feedback(issued)
    ours, other = Instance(engine), Instance(engine)  # `other`: a second ledger instance

    async def apply(it: Instance, envelopes: Sequence[Envelope], crash: bool = False) -> None:
        try:
            async with engine.begin() as conn:
                await it.ingest(conn, records(envelopes))
                if crash:  # after the events were handed over, before the commit
                    raise Crash
        except Crash:
            pass
        await it.projector.drain()

    await apply(ours, [issued])
    await apply(ours, fb[:10], crash=True)  # handed over: version 11, a head never stored
    await apply(other, fb[10:20])  # the store: version 11 too, another head
    misses = ours.cache.misses
    await apply(ours, fb[20:30])  # the same version, another hash: a miss, read back
    assert ours.cache.misses == misses + 1
    await apply(ours, fb[:10], crash=True)
    await apply(ours, fb[:10])  # retried: the same payloads on the same chain
    hits = ours.cache.hits
    await apply(ours, fb[30:])  # follows the retried batch's head: a hit
    assert ours.cache.hits == hits + 1

    live = await _rows(engine)
    async with engine.begin() as conn:
        await refresh.rebuild(conn)
    assert await _rows(engine) == live
    assert await _stored_rows(engine, s.subject_id) == await _pure_rows(engine, s.subject_id)
    [status] = live["subject_status"]
    assert status[5] == len(fb) + 1  # stream_version: every event once
    tasks = live["tasks"]
    assert len(tasks) == len(fb)
    assert {t[7] for t in tasks} == {"executed"}
