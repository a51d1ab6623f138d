"""Ingest lanes (services/ledger/bootstrap.py): one consumer per topic, taking turns
at the append lock, so designations are not held back by a flood of feedback; each
lane resumes from its own stored offsets, which migration 0003 carried over from the
single consumer ingest used to be."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import select, text

from services.ledger import tables
from services.ledger.app import create_app
from shared.adapters.db import make_engine
from shared.adapters.migrations import config
from shared.domain.envelope import Envelope
from tests.support.infra import Infra, unique
from tests.support.ledger_harness import Ledger, drop_schema, ledger
from tests.support.ledger_workload import court_bulk

pytestmark = pytest.mark.integration

BATCH = 200


@pytest.fixture
async def led(infra: Infra, tmp_path: Path) -> AsyncIterator[Ledger]:
    async with ledger(infra, tmp_path, run_app=False) as it:
        sizes = {"batch_size": BATCH, "feedback_batch_size": BATCH}
        it.app = create_app(it.settings().model_copy(update=sizes))
        async with it.app.router.lifespan_context(it.app):
            yield it


async def _positions(led: Ledger, envelopes: list[Envelope]) -> list[int]:
    e = tables.events
    async with led.engine.connect() as conn:
        rows = await conn.execute(
            select(e.c.position).where(e.c.event_id.in_([env.id for env in envelopes]))
        )
        return list(rows.scalars())


async def test_designations_overtake_a_flood_of_feedback(led: Ledger) -> None:
    listed = court_bulk(60, chunk=60)  # 60 debtors x 49 tasks
    designations = [e for e in listed.envelopes if e.type == "jsb.designation.issued"]
    flood = [e for e in listed.envelopes if e.type.startswith("jsb.feedback.")]
    await led.producer.send(designations)
    await led.wait_caught_up(timeout_s=60)  # both lanes run; every flooded subject is known

    later = court_bulk(10, chunk=10, seed=11)
    newcomers = [e for e in later.envelopes if e.type == "jsb.designation.issued"]
    await led.producer.send(flood)  # ~15 batches of feedback, each refreshing full subjects
    await led.producer.send(newcomers)
    await led.wait_caught_up(timeout_s=120)

    flood_at = await _positions(led, flood)
    newcomers_at = await _positions(led, newcomers)
    assert len(flood_at) == len(flood)
    assert len(newcomers_at) == len(newcomers)
    behind = sum(1 for p in flood_at if p > max(newcomers_at))
    # The designations lane waits at most one feedback batch for its turn: the
    # newcomers are in long before the flood is. (One consumer of both topics, as
    # ingest was, left ~5/6 of this flood ahead of them: measured, docs/ledger.md.)
    assert behind >= len(flood) // 2, (behind, len(flood))
    assert (await led.get(f"/v1/subjects/{newcomers[0].subject}/status"))["restricted"] is True


async def test_each_lane_stores_its_own_offsets(led: Ledger) -> None:
    listed = court_bulk(3, chunk=3, seed=5)
    await led.producer.send(listed.envelopes)
    await led.wait_caught_up()
    o = tables.consumer_offsets
    async with led.engine.connect() as conn:
        rows = (await conn.execute(select(o.c.consumer, o.c.topic))).all()
    assert {c for c, _ in rows} == {"ledger.ingest.designations", "ledger.ingest.feedback"}
    for consumer, topic in rows:
        assert topic.startswith(consumer.rsplit(".", 1)[1], len("jsb."))


OFFSETS = [
    ("ledger.ingest", "jsb.designations.v1.x", 0, 7),
    ("ledger.ingest", "jsb.designations.v1.x", 1, 3),
    ("ledger.ingest", "jsb.feedback.v1.x", 2, 99),
    ("other", "jsb.designations.v1.x", 0, 1),
]


async def _sql(infra: Infra, schema: str, *statements: str) -> list[tuple[object, ...]]:
    """Run statements in the schema; the rows of the last one."""
    engine = make_engine(infra.admin_url, schema=schema)
    try:
        async with engine.begin() as conn:
            rows: list[tuple[object, ...]] = []
            for statement in statements:
                result = await conn.execute(text(statement))
                rows = [tuple(r) for r in result] if result.returns_rows else []
            return rows
    finally:
        await engine.dispose()


def test_migration_hands_the_single_consumer_offsets_to_the_lanes(infra: Infra) -> None:
    schema = "ledger_" + unique()
    cfg = config("ledger", infra.admin_url, schema, infra.service_role)
    read = "SELECT consumer, topic, partition, next_offset FROM consumer_offsets"
    try:
        command.upgrade(cfg, "0002")
        inserts = [f"INSERT INTO consumer_offsets VALUES {row!r}" for row in OFFSETS]
        asyncio.run(_sql(infra, schema, *inserts))
        command.upgrade(cfg, "head")
        assert sorted(asyncio.run(_sql(infra, schema, read))) == [
            ("ledger.ingest.designations", "jsb.designations.v1.x", 0, 7),
            ("ledger.ingest.designations", "jsb.designations.v1.x", 1, 3),
            ("ledger.ingest.feedback", "jsb.feedback.v1.x", 2, 99),
            ("other", "jsb.designations.v1.x", 0, 1),
        ]
        command.downgrade(cfg, "0002")
        assert sorted(asyncio.run(_sql(infra, schema, read))) == sorted(OFFSETS)
    finally:
        asyncio.run(drop_schema(infra, schema))


def test_migration_0005_compresses_the_status_documents_with_lz4(infra: Infra) -> None:
    """The ledger's big documents (a subject's status, a designation's view, the status
    messages in the outbox) are compressed with lz4 from 0005 on, with pglz again after
    its downgrade (the notifier's measurement: lz4 ~10× cheaper for the server)."""
    schema = "ledger_" + unique()
    cfg = config("ledger", infra.admin_url, schema, infra.service_role)
    read = (
        "SELECT attrelid::regclass::text || '.' || attname, CAST(attcompression AS text)"
        " FROM pg_attribute WHERE (attrelid, attname) IN"
        " ((CAST('subject_status' AS regclass), 'status'),"
        " (CAST('designations' AS regclass), 'view'), (CAST('outbox' AS regclass), 'value'))"
    )
    names = ("subject_status.status", "designations.view", "outbox.value")
    try:
        command.upgrade(cfg, "head")
        assert dict(asyncio.run(_sql(infra, schema, read))) == dict.fromkeys(names, "l")
        command.downgrade(cfg, "0004")
        assert dict(asyncio.run(_sql(infra, schema, read))) == dict.fromkeys(names, "p")
    finally:
        asyncio.run(drop_schema(infra, schema))
