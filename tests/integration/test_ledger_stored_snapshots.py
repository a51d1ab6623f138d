"""Stored snapshots on Postgres (migration 0007, services/ledger/stored_snapshots.py):
the projector stores a long stream's fold every K events; the status read through the
route, from a process with nothing in memory, answers what it answers without them —
as of instants before, at and after the snapshots — also when a stored one is
corrupt or of another version of the state; the projector's refreshes resume from
them, and its rows equal a rebuild's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.ledger_subject import OPS, one_subject
from services.ledger import api_subjects, tables
from services.ledger.fold_cache import FoldCache
from services.ledger.ingest import Ingest
from services.ledger.ingest_postgres import PostgresLedger
from services.ledger.lookup import resolve_subject_head
from services.ledger.projector import Projector
from services.ledger.snapshot_store_postgres import PostgresSnapshotStore, stored_snapshots
from services.ledger.snapshots import Snapshots
from services.ledger.store import PostgresEventStore
from services.ledger.stored_snapshots import StoredSnapshots
from tests.integration.test_ledger_fold_cache import _pure_rows, _stored_rows
from tests.support.counting_snapshots import CountingSnapshotStore
from tests.support.infra import Infra
from tests.support.ledger_harness import fresh_engine
from tests.support.ledger_workload import batches, records
from tests.support.subjects import new_uscc

pytestmark = pytest.mark.integration

K = 25
EVENTS = 130
KNOWN_AT = datetime(2100, 1, 1, tzinfo=UTC)
"""Every read as known then (the answer names it: one instant for both reads)."""


@pytest.fixture
async def engine(infra: Infra) -> AsyncIterator[AsyncEngine]:
    async with fresh_engine(infra) as engine:
        yield engine


async def _ingested(engine: AsyncEngine) -> tuple[str, StoredSnapshots]:
    """One long subject through ingest and a projector storing snapshots every K,
    its fold cache off (every refresh resumes from the store)."""
    events = PostgresEventStore(engine, tables.events)
    stored = stored_snapshots(engine, events, K)
    assert stored is not None
    projector = Projector(PostgresLedger(engine), cache=FoldCache(capacity=0), stored=stored)
    ingest = Ingest(hand_over=projector.hand_over)
    envelopes = one_subject(EVENTS)
    for part in batches(records(envelopes), 20):
        async with engine.begin() as conn:
            await ingest(conn, part)
        await projector.drain()
    return envelopes[0].subject, stored


async def _status(
    engine: AsyncEngine, subject: str, as_of: datetime, snapshots: Snapshots | None
) -> bytes:
    events = PostgresEventStore(engine, tables.events)
    answer = await api_subjects.subject_status(
        subject, OPS, engine, events, as_of, KNOWN_AT, snapshots
    )
    return bytes(answer.body)


async def _instants(engine: AsyncEngine, subject: str) -> list[datetime]:
    """Before, at and after each stored snapshot's latest effective instant."""
    async with engine.connect() as conn:
        marks = [r[0] for r in await conn.execute(select(tables.snapshots.c.latest_effective))]
    out = [datetime(2019, 1, 1, tzinfo=UTC), datetime.now(UTC)]
    for t in marks:
        out += [t - timedelta(microseconds=1), t, t + timedelta(minutes=30)]
    return out


async def test_reads_answer_the_same_with_and_without_stored_snapshots(
    engine: AsyncEngine,
) -> None:
    subject, stored = await _ingested(engine)
    async with engine.connect() as conn:
        versions = [
            r[0]
            for r in await conn.execute(
                select(tables.snapshots.c.version).order_by(tables.snapshots.c.version)
            )
        ]
    assert versions == list(range(K, EVENTS + 1, K))
    assert stored.written == len(versions)
    for as_of in await _instants(engine, subject):
        without = await _status(engine, subject, as_of, None)
        assert await _status(engine, subject, as_of, Snapshots(0, 8, stored=stored)) == without
    memory = Snapshots(0, 8, stored=stored)
    now = datetime.now(UTC)
    await _status(engine, subject, now, memory)
    used = memory.latest_usable(subject, now, KNOWN_AT)  # confirmed, kept in memory
    assert used is not None
    assert used.version == versions[-1]


async def test_corrupt_and_other_version_snapshots_are_ignored(engine: AsyncEngine) -> None:
    subject, stored = await _ingested(engine)
    s = tables.snapshots
    async with engine.begin() as conn:
        await conn.execute(
            update(s).where(s.c.version == 4 * K).values(state=func.substr(s.c.state, 1, 100))
        )
        await conn.execute(update(s).where(s.c.version == 5 * K).values(codec="an older one"))
        await conn.execute(update(s).where(s.c.version == 3 * K).values(hash="0" * 64))
    for as_of in await _instants(engine, subject):
        without = await _status(engine, subject, as_of, None)
        assert await _status(engine, subject, as_of, Snapshots(0, 8, stored=stored)) == without


async def test_the_refreshes_rows_equal_the_projection_of_the_whole_stream(
    engine: AsyncEngine,
) -> None:
    subject, stored = await _ingested(engine)
    resumed = await stored.resume(subject)
    assert resumed is not None
    assert resumed.base.version == (EVENTS // K) * K
    assert await _stored_rows(engine, subject) == await _pure_rows(engine, subject)


async def test_the_states_are_compressed_with_lz4(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        method = await conn.scalar(
            text(
                "SELECT CAST(attcompression AS text) FROM pg_attribute"
                " WHERE attrelid = CAST('snapshots' AS regclass) AND attname = 'state'"
            )
        )
    assert method == "l"


async def test_a_status_read_of_a_short_stream_does_not_ask_for_snapshots(
    engine: AsyncEngine,
) -> None:
    """The route resolves the subject and its status row's version in one statement;
    a stream shorter than K (a court debtor) is read without asking the snapshot
    store, a long one still from its stored snapshot, a subject never seen (no row)
    asks. The answers are those without stored snapshots."""
    long_subject, _ = await _ingested(engine)
    events = PostgresEventStore(engine, tables.events)
    counting = CountingSnapshotStore(PostgresSnapshotStore(engine))
    stored = StoredSnapshots(counting, events, K)
    projector = Projector(PostgresLedger(engine), stored=stored)
    short = one_subject(K - 1)
    async with engine.begin() as conn:
        await Ingest(hand_over=projector.hand_over)(conn, list(records(short)))
    await projector.drain()
    async with engine.connect() as conn:
        assert await resolve_subject_head(conn, short[0].subject) == (short[0].subject, K - 1)
        assert await resolve_subject_head(conn, long_subject) == (long_subject, EVENTS)
        unseen = new_uscc()
        assert await resolve_subject_head(conn, unseen) == (unseen, None)
    now = datetime.now(UTC)
    for subject, asked in [(short[0].subject, 0), (long_subject, 1), (unseen, 1)]:
        counting.asked = 0
        got = await _status(engine, subject, now, Snapshots(0, 8, stored=stored))
        assert (got, counting.asked) == (await _status(engine, subject, now, None), asked)
