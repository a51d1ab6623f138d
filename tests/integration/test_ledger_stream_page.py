"""A page of a long stream casts only its own payloads to text, whatever plan the
planner picks (services/ledger/store.py `stream_query` says why): on a table without
statistics the planner expects a short stream, reads all of it by a bitmap scan and
sorts, and a select list computed below the sort cast every payload of the stream."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.ledger_subject import one_subject
from services.ledger import store, tables
from services.ledger.ingest import Ingest
from shared.adapters.db import make_engine
from tests.support.infra import Infra
from tests.support.ledger_harness import drop_schema, make_schema
from tests.support.ledger_workload import batches, records

pytestmark = pytest.mark.integration

EVENTS, PAGE = 1_500, 100


@pytest.fixture
async def engine(infra: Infra) -> AsyncIterator[AsyncEngine]:
    schema = await make_schema(infra)
    owner = make_engine(infra.admin_url, schema=schema)
    try:
        async with owner.begin() as conn:
            # no statistics while the test runs: the planner's guess for a stream is short
            await conn.execute(text("ALTER TABLE events SET (autovacuum_enabled = false)"))
    finally:
        await owner.dispose()
    engine = make_engine(infra.database_url, schema=schema)
    try:
        yield engine
    finally:
        await engine.dispose()
        await drop_schema(infra, schema)


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


async def test_a_page_of_a_long_stream_casts_only_the_page(engine: AsyncEngine) -> None:
    envelopes = one_subject(EVENTS)
    ingest = Ingest()
    for part in batches(records(envelopes), 500):
        async with engine.begin() as conn:
            await ingest(conn, part)
    subject = envelopes[0].subject

    query = store.stream_query(tables.events, subject, 0, PAGE)
    sql = query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    async with engine.connect() as conn:
        plan = (await conn.execute(text(f"EXPLAIN (ANALYZE, VERBOSE, FORMAT JSON) {sql}"))).scalar()
        page = await store.stream(conn, tables.events, subject, 0, PAGE)
        rest = await store.stream(conn, tables.events, subject, PAGE)

    casting = [
        node
        for node in _nodes(plan[0]["Plan"])
        if any("payload)::text" in out for out in node.get("Output", []))
    ]
    assert casting, "no node casts the payload: the plan's shape changed, read it again"
    assert all(n["Actual Rows"] * n["Actual Loops"] <= PAGE for n in casting), [
        (n["Node Type"], n["Actual Rows"]) for n in casting
    ]
    assert [e.stream_version for e in page] == list(range(1, PAGE + 1))
    assert [e.stream_version for e in rest] == list(range(PAGE + 1, EVENTS + 1))
    assert [e.event_id for e in page] == [e.id for e in envelopes[:PAGE]]
