"""Global order readers can trust: a reader following positions never skips an event
that commits later with a lower position (services/ledger/store.py, why-comment).

First the hazard, made deterministic: without the append turn, a writer that inserted
first but commits last is skipped by a reader. Then the store: the same interleaving
cannot happen. The many-concurrent-writers test (a tailing reader sees every position
exactly once, in order, and no chain forks) is the event store's contract,
tests/contracts/event_store.py, run on both adapters (Postgres:
tests/integration/test_postgres_adapters.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.ledger import store, tables
from shared.domain.envelope import Envelope
from tests.support.infra import Infra
from tests.support.ledger_harness import fresh_engine

pytestmark = pytest.mark.integration


@pytest.fixture
async def engine(infra: Infra) -> AsyncIterator[AsyncEngine]:
    async with fresh_engine(infra) as engine:
        yield engine


def _envelope(subject: str) -> Envelope:
    return Envelope(type="jsb.test.appended", source="/t", subject=subject, time=datetime.now(UTC))


async def _positions_after(engine: AsyncEngine, position: int) -> list[int]:
    async with engine.connect() as conn:
        return [e.position for e in await store.after(conn, tables.events, position, 10_000)]


async def _naive_append(conn: AsyncConnection, subject: str) -> None:
    """An insert without the append turn (what the store must never do)."""
    env = _envelope(subject)
    await conn.execute(
        insert(tables.events).values(
            event_id=env.id,
            stream=subject,
            stream_version=1,
            type=env.type,
            schema_version=1,
            effective_at=env.time,
            payload=env.model_dump(mode="json"),
            prev_hash=store.GENESIS,
            hash="x",
        )
    )


async def test_without_the_append_turn_a_reader_skips_an_event(engine: AsyncEngine) -> None:
    async with engine.connect() as a, engine.connect() as b:
        await a.begin()
        await _naive_append(a, "A")  # gets the lower position, commits last
        await b.begin()
        await _naive_append(b, "B")
        await b.commit()
        seen = await _positions_after(engine, 0)
        await a.commit()
    cursor = seen[-1]
    seen += await _positions_after(engine, cursor)
    everything = await _positions_after(engine, 0)
    assert len(everything) == 2
    assert seen != everything  # the hazard is real: one position was skipped for good


async def test_with_the_append_turn_the_later_writer_waits(engine: AsyncEngine) -> None:
    async with engine.connect() as a, engine.connect() as b:
        await a.begin()
        await store.append(a, tables.events, [(_envelope("A"), None)])
        await b.begin()
        later = asyncio.create_task(store.append(b, tables.events, [(_envelope("B"), None)]))
        await asyncio.sleep(0.3)
        assert not later.done()  # B waits for A's turn to end
        assert await _positions_after(engine, 0) == []
        await a.commit()
        await later
        seen = await _positions_after(engine, 0)
        await b.commit()
    seen += await _positions_after(engine, seen[-1] if seen else 0)
    assert seen == await _positions_after(engine, 0)
    assert len(seen) == 2
