"""The `IngestTransaction` port (ports.py) on the consumer's Postgres connection:
the event store's appender (store.py), the read models (read_models/changed_rows.py),
the outbox (shared/adapters/outbox.py), the projection queue (projection_queue.py)
and the lookups (lookup_store.py), all in that connection's transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.ledger import store, tables
from services.ledger.lookup_store import PostgresLookups
from services.ledger.projection_queue import PostgresProjectionQueue
from services.ledger.read_models import changed_rows
from services.ledger.read_models.changed_rows import Written
from services.ledger.read_models.rows import Row, SubjectProjection
from shared.adapters.outbox import PostgresOutbox


class PostgresProjections:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def streams(self, subjects: Sequence[str]) -> dict[str, list[store.StoredEvent]]:
        return await store.streams(self._conn, tables.events, subjects)

    async def write(
        self,
        projections: Sequence[SubjectProjection],
        previous: Mapping[str, Written],
        subjects: Sequence[str] = (),
    ) -> dict[str, Written]:
        return await changed_rows.write(self._conn, projections, previous, subjects)

    async def heads(self, subjects: Sequence[str]) -> dict[str, int]:
        s = tables.subject_status
        rows = await self._conn.execute(
            select(s.c.subject_id, s.c.head_position).where(s.c.subject_id.in_(list(subjects)))
        )
        return {r.subject_id: r.head_position for r in rows}

    async def rows(self, subject_id: str) -> dict[str, list[Row]]:
        out: dict[str, list[Row]] = {}
        for table in tables.PROJECTIONS:
            found = await self._conn.execute(select(table).where(table.c.subject_id == subject_id))
            out[table.name] = [dict(r._mapping) for r in found]
        return out


class PostgresIngestTransaction:
    def __init__(self, conn: AsyncConnection) -> None:
        self.events = store.PostgresEventAppender(conn, tables.events)
        self.projections = PostgresProjections(conn)
        self.outbox = PostgresOutbox(conn, tables.outbox)
        self.queue = PostgresProjectionQueue(conn)
        self.lookups = PostgresLookups(conn)


class PostgresLedger:
    """`Transactions[IngestTransaction]` on an engine (the consumer opens its own
    transaction and binds `PostgresIngestTransaction` to it; this is for callers that
    open one themselves, as the contract suite does)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[PostgresIngestTransaction]:
        async with self._engine.begin() as conn:
            yield PostgresIngestTransaction(conn)
