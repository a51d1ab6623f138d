"""A projection round of more subjects than `REFRESH_CHUNK` refreshes them chunk by
chunk in its one transaction: the rows equal a rebuild from the events, and every
projected subject gets exactly one status message, oldest queued first."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.ledger import projector, tables
from services.ledger.ingest import Ingest
from services.ledger.ingest_postgres import PostgresLedger
from services.ledger.projector import Projector
from services.ledger.read_models import refresh
from tests.support.infra import Infra
from tests.support.ledger_harness import fresh_engine
from tests.support.ledger_workload import court_bulk, records

pytestmark = pytest.mark.integration


@pytest.fixture
async def engine(infra: Infra) -> AsyncIterator[AsyncEngine]:
    async with fresh_engine(infra) as engine:
        yield engine


async def _rows(engine: AsyncEngine) -> dict[str, list[tuple[object, ...]]]:
    async with engine.connect() as conn:
        return {
            t.name: [tuple(r) for r in await conn.execute(select(t).order_by(*t.primary_key))]
            for t in tables.PROJECTIONS
        }


async def test_a_batch_is_refreshed_in_chunks_like_at_once(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(projector, "REFRESH_CHUNK", 3)
    workload = court_bulk(8, chunk=8)
    recs = records(workload.envelopes)
    projects = Projector(PostgresLedger(engine))
    handler = Ingest(hand_over=projects.hand_over)
    for start in range(0, len(recs), 150):
        async with engine.begin() as conn:
            await handler(conn, recs[start : start + 150])
        await projects.drain()
    live = await _rows(engine)
    async with engine.connect() as conn:
        messages = (
            await conn.execute(select(tables.outbox.c.key, tables.outbox.c.value).order_by("id"))
        ).all()
    async with engine.begin() as conn:
        await refresh.rebuild(conn)
    assert await _rows(engine) == live
    assert len(live["subject_status"]) == 8
    assert projects.refreshed == len(messages)
    first_batch = list(dict.fromkeys(json.loads(r.value)["subject"] for r in recs[:150]))
    assert [m.key for m in messages[: len(first_batch)]] == first_batch
