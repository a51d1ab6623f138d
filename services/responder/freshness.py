"""How fresh the local store is: the last instant at which the ingest knew it had
applied everything the broker had (`X-Data-Fresh-As-Of` on every check).

Kept in memory while the ingest runs, and written down every few seconds so that a
responder restarted while Kafka is down still tells its callers how old its data
is (the written value may lag by that interval: it errs on the old side).

Before the first catch-up ever (a new deployment, or a store whose previous run never
caught up) the store may lack any designation already published, and nothing says how
old it is: an `allow` from it could let a sanctioned subject through (found by the
crash test: a fresh responder answered `allow`, with no freshness header, for a subject
the ledger already held in force). So until then checks and restriction views are
refused with 503 `data_not_caught_up` (the caller retries, as for any 503), and
`/readyz` says `data` is not ready. Once caught up, the instant is written down at
once, so a restart answers again from the store even while Kafka is away.
"""

from __future__ import annotations

import time
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from services.responder import tables
from shared.domain.errors import DependencyUnavailable

HEADER = "X-Data-Fresh-As-Of"
RETRY_AFTER_S = 2


class NotCaughtUp(RuntimeError):
    """`/readyz`'s reason: the store has never applied everything the broker had."""


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

    def required(self) -> datetime:
        """How fresh the store is, or 503 `data_not_caught_up` if it never caught up."""
        at = self.caught_up_at
        if at is None:
            raise DependencyUnavailable(
                "data_not_caught_up",
                "kafka",
                "this responder has not yet applied what the broker holds; retry",
                retry_after_s=RETRY_AFTER_S,
            )
        return at

    async def ready(self) -> None:
        """The readiness check: raises until the first catch-up ever."""
        if self.caught_up_at is None:
            raise NotCaughtUp("not caught up with the broker since the store was created")

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
