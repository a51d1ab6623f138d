"""How fresh the local store is: the last instant at which the ingest knew it had
applied everything the broker had (`X-Data-Fresh-As-Of` on every check).

Kept in memory while the ingest runs, and written down every few seconds so that a
responder restarted while Kafka is down still tells its callers how old its data
is (the written value may lag by that interval: it errs on the old side).
"""

from __future__ import annotations

import time
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from services.responder import tables

HEADER = "X-Data-Fresh-As-Of"


class Freshness:
    def __init__(self, engine: AsyncEngine, consumer: str, persist_every_s: float) -> None:
        self._engine = engine
        self._consumer = consumer
        self._persist_every_s = persist_every_s
        self._persisted_mono = float("-inf")
        self.caught_up_at: datetime | None = None

    async def load(self) -> None:
        """The instant written down by the previous run (before the ingest polls)."""
        t = tables.ingest_progress
        async with self._engine.connect() as conn:
            value = await conn.scalar(
                select(t.c.caught_up_at).where(t.c.consumer == self._consumer)
            )
        if value is not None and (self.caught_up_at is None or value > self.caught_up_at):
            self.caught_up_at = value

    async def note(self, at: datetime) -> None:
        if self.caught_up_at is not None and at <= self.caught_up_at:
            return
        self.caught_up_at = at
        if time.monotonic() - self._persisted_mono >= self._persist_every_s:
            await self._persist(at)

    async def _persist(self, at: datetime) -> None:
        t = tables.ingest_progress
        stmt = pg_insert(t).values(consumer=self._consumer, caught_up_at=at)
        stmt = stmt.on_conflict_do_update(
            index_elements=["consumer"],
            set_={"caught_up_at": stmt.excluded.caught_up_at},
            where=t.c.caught_up_at < stmt.excluded.caught_up_at,
        )
        async with self._engine.begin() as conn:
            await conn.execute(stmt)
        self._persisted_mono = time.monotonic()
