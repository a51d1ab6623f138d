"""The projector (services/ledger/projector.py) against the real Postgres: batches
for one subject that come while it is busy cost one refresh and publish the same
status as projecting each; a head already projected is not published again; and
reads that find a subject by identifier or by designation id do not wait for it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.ledger import store, tables
from services.ledger.ingest import Ingest
from services.ledger.ingest_postgres import PostgresLedger
from services.ledger.projector import Projector
from services.ledger.read_models.rows import project
from shared.adapters.topics import STATUS
from tests.support.infra import Infra
from tests.support.ledger_events import Script, designation_id, feedback
from tests.support.ledger_harness import Ledger, eventually, fresh_engine, ledger
from tests.support.ledger_workload import records
from tests.support.subjects import new_resident_id

pytestmark = pytest.mark.integration

BATCHES = 5


@pytest.fixture
async def engine(infra: Infra) -> AsyncIterator[AsyncEngine]:
    async with fresh_engine(infra) as engine:
        yield engine


async def _statuses(engine: AsyncEngine, subject: str) -> list[dict[str, object]]:
    o = tables.outbox
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(o.c.value)
            .where(o.c.topic.startswith(STATUS), o.c.key == subject)
            .order_by(o.c.id)
        )
        out: list[dict[str, object]] = [json.loads(v) for v in rows.scalars()]
        return out


async def _from_scratch(engine: AsyncEngine, subject: str) -> dict[str, object]:
    async with engine.connect() as conn:
        p = project(subject, await store.stream(conn, tables.events, subject))
    doc: dict[str, object] = json.loads(p.status_json)
    return doc


def _document(message: dict[str, object]) -> dict[str, object]:
    data = message["data"]
    assert isinstance(data, dict)
    return {k: v for k, v in data.items() if k != "caused_by"}


async def test_batches_that_come_while_the_projector_is_busy_cost_one_refresh(
    engine: AsyncEngine,
) -> None:
    held, each = Script(new_resident_id()), Script(new_resident_id())
    envelopes = {}
    for s in (held, each):
        issued = s.issue(list_type="court.dishonest-debtor", level="especially_serious")
        envelopes[s.subject_id] = [issued, *feedback(issued)]
    projector = Projector(PostgresLedger(engine))
    ingest = Ingest(hand_over=projector.hand_over)

    async def apply(subject: str, n: int) -> None:
        events = envelopes[subject]
        part = events[n * len(events) // BATCHES : (n + 1) * len(events) // BATCHES]
        async with engine.begin() as conn:
            await ingest(conn, records(part))

    for n in range(BATCHES):  # `each`: projected after each of its batches
        await apply(each.subject_id, n)
        await projector.drain()
    assert projector.refreshed == BATCHES
    for n in range(BATCHES):  # `held`: every batch comes while the projector is held
        await apply(held.subject_id, n)
    await projector.drain()
    assert projector.refreshed == BATCHES + 1

    [coalesced] = await _statuses(engine, held.subject_id)
    per_batch = await _statuses(engine, each.subject_id)
    assert len(per_batch) == BATCHES
    assert _document(coalesced) == await _from_scratch(engine, held.subject_id)
    assert _document(per_batch[-1]) == await _from_scratch(engine, each.subject_id)


async def test_a_head_already_projected_is_not_published_again(engine: AsyncEngine) -> None:
    """A round that read a stream past its queued position (a fold cache miss reads
    the whole stream) projected the newer events already: the subject queued for
    them is unqueued without a second status message for the same head."""
    s = Script(new_resident_id())
    issued = s.issue(list_type="court.dishonest-debtor", level="especially_serious")
    projector = Projector(PostgresLedger(engine))
    ingest = Ingest(hand_over=projector.hand_over)
    async with engine.begin() as conn:
        await ingest(conn, records([issued, *feedback(issued)]))
    await projector.drain()
    async with engine.connect() as conn:
        head = (await store.stream(conn, tables.events, s.subject_id))[-1].position
    async with PostgresLedger(engine).begin() as tx:  # what such a round leaves queued
        await tx.queue.enqueue({s.subject_id: head})
    assert await projector.drain() == 1
    assert projector.refreshed == 1
    assert len(await _statuses(engine, s.subject_id)) == 1
    async with engine.connect() as conn:
        queued = (
            await conn.execute(select(func.count()).select_from(tables.projection_queue))
        ).scalar_one()
    assert queued == 0


@pytest.fixture
async def lagging(
    infra: Infra, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Ledger]:
    """A ledger whose projector takes only subjects queued an hour ago: none here."""
    monkeypatch.setenv("JSB_LEDGER_PROJECTION_DELAY_S", "3600")
    async with ledger(infra, tmp_path) as it:
        yield it


async def test_lookups_do_not_wait_for_the_projector(lagging: Ledger) -> None:
    """A person just put under a court's restrictions, looked up by passport before
    the projector got to the subject, reads as restricted (not as nobody)."""
    person = new_resident_id()
    p = Script(person)
    issued = p.issue(
        list_type="court.dishonest-debtor", level="especially_serious", other_ids=["G87654321"]
    )
    await lagging.producer.send([issued])
    await lagging.wait_events(1)
    assert await lagging.count(tables.projection_queue) == 1
    assert await lagging.count(tables.subject_status) == 0  # not projected yet

    doc = await lagging.get("/v1/subjects/G87654321/status")
    assert doc["subject_id"] == person
    assert doc["restricted"] is True
    found = await lagging.get(f"/v1/designations/{designation_id(issued)}")
    assert found["designation_id"] == str(designation_id(issued))
    assert found["subject_id"] == person


async def test_a_restarted_projector_projects_what_was_queued(infra: Infra, tmp_path: Path) -> None:
    """Queued before a restart: projected after it, without a new batch to wake it."""
    async with ledger(infra, tmp_path, run_app=False) as led:
        s = Script(new_resident_id())
        issued = s.issue(list_type="court.dishonest-debtor", level="especially_serious")
        async with led.engine.begin() as conn:
            await Ingest()(conn, records([issued]))
        proc = led.process(tmp_path)
        proc.start()
        try:
            await led.wait_projected(timeout_s=60)
        finally:
            proc.stop()
        await eventually(lambda: _statuses(led.engine, s.subject_id), lambda m: len(m) == 1)
