"""The projection queue (the `ProjectionQueue` port, ports.py) on Postgres: table
`projection_queue`, one row per subject whose projection is behind its events.

Why a subject's events are never left unprojected, whatever the interleaving of
ingest and projector (tests/contracts/projection_queue.py,
tests/integration/test_ledger_projector.py):
- ingest queues a subject in the transaction that appends its events, with the
  position of the latest (`enqueue`: an upsert that keeps the greater position, and
  the subject's place: `queued_at` is the statement's time, the same for a batch's
  subjects, which keep the order the batch touched them in by `touch_order`; ingest
  batches take turns, so a later batch's statement starts later);
- the projector unqueues a subject in the transaction that writes its rows, and only
  if the queued position is at most the head it projected (`done`). An ingest that
  queued the subject again meanwhile either committed before the delete (Postgres
  re-checks the condition on the row's newest version and leaves it: its position is
  past the head) or waits for the row lock until the projector commits and then
  inserts the row again (`ON CONFLICT` retries on a row deleted under it).
- Both lock the rows in subject order (the upsert's rows sorted, the delete's rows
  locked by `SELECT ... ORDER BY ... FOR UPDATE`), so the two never deadlock.

The projection turn (a transaction-scoped advisory lock, like the append turn of
store.py) makes projectors take turns — one writer of projection rows at a time, so
two instances never write a subject's rows from different heads — and lets a rebuild
(read_models/refresh.rebuild) wait for the projector. Ingest never takes it.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.ledger.ports import Queued, QueueDepth

PROJECTION_LOCK_CLASS = 0x6A_73_62_50  # "jsbP": the ledger's projection turn

_TURN = text("SELECT pg_advisory_xact_lock(:cls, hashtext(current_schema()))")
_ENQUEUE = text(
    "INSERT INTO projection_queue"
    " (subject_id, last_position, queued_at, touch_order, touched_at)"
    " SELECT s, p, statement_timestamp(), o::int, statement_timestamp()"
    " FROM unnest(CAST(:s AS TEXT[]), CAST(:p AS BIGINT[])) WITH ORDINALITY AS x(s, p, o)"
    " ORDER BY s"
    " ON CONFLICT (subject_id) DO UPDATE"
    " SET last_position = greatest(projection_queue.last_position, excluded.last_position),"
    " touched_at = excluded.touched_at"
)
_TAKE = text(
    "SELECT subject_id, last_position, queued_at, touched_at FROM projection_queue"
    " WHERE queued_at <= clock_timestamp() - make_interval(secs => :age)"
    " OR touched_at <= clock_timestamp() - make_interval(secs => :quiet)"
    " ORDER BY queued_at, touch_order LIMIT :n"
)
_DONE = text(
    "WITH settled AS ("
    " SELECT q.subject_id FROM projection_queue q"
    " JOIN unnest(CAST(:s AS TEXT[]), CAST(:p AS BIGINT[])) AS x(s, p) ON q.subject_id = x.s"
    " WHERE q.last_position <= x.p ORDER BY q.subject_id FOR UPDATE OF q)"
    " DELETE FROM projection_queue q USING settled WHERE q.subject_id = settled.subject_id"
    " RETURNING q.subject_id"
)
_DEPTH = text("SELECT count(*) AS n, min(queued_at) AS oldest FROM projection_queue")


async def take_projection_turn(conn: AsyncConnection) -> None:
    """Wait for the projection turn; held until the caller's transaction ends."""
    await conn.execute(_TURN, {"cls": PROJECTION_LOCK_CLASS})


class PostgresProjectionQueue:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def enqueue(self, heads: Mapping[str, int]) -> None:
        if heads:
            await self._conn.execute(_ENQUEUE, {"s": list(heads), "p": list(heads.values())})

    async def take(
        self, limit: int, min_age_s: float = 0.0, quiet_s: float | None = None
    ) -> list[Queued]:
        await take_projection_turn(self._conn)
        # Without quiet_s the second condition adds nothing (touched_at >= queued_at).
        quiet = min_age_s if quiet_s is None else quiet_s
        rows = await self._conn.execute(_TAKE, {"age": min_age_s, "quiet": quiet, "n": limit})
        return [Queued(r.subject_id, r.last_position, r.queued_at, r.touched_at) for r in rows]

    async def done(self, heads: Mapping[str, int]) -> list[str]:
        if not heads:
            return []
        rows = await self._conn.execute(_DONE, {"s": list(heads), "p": list(heads.values())})
        return [str(s) for s in rows.scalars()]

    async def depth(self) -> QueueDepth:
        row = (await self._conn.execute(_DEPTH)).one()
        return QueueDepth(int(row.n), row.oldest)
