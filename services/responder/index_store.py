"""The restriction index in Postgres: rewritten per subject by the ingest (in its
transaction, so the index never lags the stored events), read by checks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import fields
from datetime import datetime
from operator import attrgetter
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.responder import store, tables
from services.responder.fold_memo import Folded, at_last
from services.responder.folds import Decoded, fold_decoded
from services.responder.live_index import IndexChanges, LiveIndex
from services.responder.live_index import follow as follow_live
from services.responder.live_index import load as load_live
from services.responder.restriction_index import IndexRow, subject_rows
from shared.adapters.db import driver_of
from shared.domain.wire import PoisonMessage

log = logging.getLogger(__name__)

# One row per subject known by the identifier (a subject without a restriction for
# these measures has NULLs), its restrictions in the fold's order.
LOOKUP = """
SELECT i.subject_id, r.designation_id, r.list_type, r.measure
FROM subject_identifiers i
LEFT JOIN restriction_index r
  ON r.subject_id = i.subject_id
 AND r.department = $2
 AND r.measure = ANY($3::text[])
 AND r.active_from <= $4
 AND (r.active_until IS NULL OR r.active_until > $4)
WHERE i.identifier = $1
ORDER BY i.subject_id, r.ordinal
"""


async def lookup(
    conn: asyncpg.Connection[Any] | asyncpg.pool.PoolConnectionProxy[Any],
    identifier: str,
    department: str,
    measures: Sequence[str],
    at: datetime,
) -> list[asyncpg.Record]:
    return list(await conn.fetch(LOOKUP, identifier, department, list(measures), at))


async def lookup_in(
    conn: AsyncConnection, identifier: str, department: str, measures: Sequence[str], at: datetime
) -> list[asyncpg.Record]:
    """The same lookup inside a SQLAlchemy transaction (the Idempotency-Key path)."""
    return await lookup(await driver_of(conn), identifier, department, measures, at)


_COLUMNS = tuple(f.name for f in fields(IndexRow))
_VALUES = attrgetter(*_COLUMNS)
"""An index row's columns, and its values in that order (a tuple, for the COPY). Its
fields are plain values; `dataclasses.asdict` deep-copies each value (4 % of the
responder's event loop in the pipeline bench, for nothing: docs/benchmarks.md
"Pipeline")."""


async def refresh(
    conn: AsyncConnection,
    subjects: Iterable[str],
    departments: frozenset[str],
    decoded: Decoded | None = None,
) -> IndexChanges:
    """Recompute the index rows of `subjects` from their stored events (the caller
    holds the ingest lock, so no newer event of theirs can commit meanwhile); returns
    what was written, for the in-process copy once the transaction has committed.
    `decoded`: the stored events the ingest has just decoded (folds.fold_decoded)."""
    wanted = sorted(set(subjects))
    if not wanted:
        return IndexChanges()
    history = await store.subject_events(conn, wanted, decoded=decoded)
    written: dict[str, list[IndexRow]] = {}
    folds: dict[str, tuple[int, Folded]] = {}
    rows: list[tuple[Any, ...]] = []
    marks: list[dict[str, Any]] = []
    done: list[str] = []
    for subject in wanted:
        events = history[subject]
        try:
            state = fold_decoded(events, subject, decoded)
        except (PoisonMessage, ValueError):  # checks of it would fail the same way
            log.exception("subject's stored events do not fold; its index is left as it was")
            continue
        written[subject] = subject_rows(state, departments)
        rows.extend(_VALUES(r) for r in written[subject])
        folded = at_last(events, state)
        if folded is not None:
            folds[subject] = folded
        last = max((e.position or 0 for e in events), default=0)
        marks.append({"subject_id": subject, "position": last})
        done.append(subject)
    r, i = tables.restriction_index, tables.indexed_subjects
    await conn.execute(r.delete().where(r.c.subject_id.in_(done)))
    if rows:
        # One binary COPY, as the passes write their tasks (pg_store.py says why):
        # through SQLAlchemy's executemany these ~50 rows per court designation were
        # ~22 % of the ingest's CPU (docs/benchmarks.md, "fourth pass").
        driver = await driver_of(conn)
        await driver.copy_records_to_table(r.name, records=rows, columns=_COLUMNS)
    if marks:
        stmt = pg_insert(i).values(marks)
        await conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["subject_id"], set_={"position": stmt.excluded.position}
            )
        )
    return IndexChanges(rows=written, folds=folds)


_STALE = text(
    """
    SELECT e.subject_id
    FROM designation_events e
    LEFT JOIN indexed_subjects i ON i.subject_id = e.subject_id
    GROUP BY e.subject_id, i.position
    HAVING max(e.position) > coalesce(i.position, 0)
    LIMIT :limit
    """
)


async def catch_up(
    engine: AsyncEngine, departments: frozenset[str], lock_sql: str, batch: int = 500
) -> int:
    """Index the subjects whose stored events are newer than their index rows (data
    stored before the index existed); returns how many. Takes the ingest's lock, so an
    ingest batch never interleaves with it."""
    done = 0
    while True:
        async with engine.begin() as conn:
            await conn.execute(text(lock_sql))
            stale = [r.subject_id for r in await conn.execute(_STALE, {"limit": batch})]
            if not stale:
                return done
            await refresh(conn, stale, departments)
            done += len(stale)


class IndexReadiness:
    """Where checks read the index: the in-process copy once it is loaded; the table
    after the start-up catch-up; until then they fold, as before the index existed."""

    def __init__(
        self,
        departments: frozenset[str],
        on_loaded: Callable[[int], None],
        follow_every_s: float = 1.0,
    ) -> None:
        self.ready = False
        """The table is caught up (checks may read it)."""
        self.live = LiveIndex(departments)
        """The in-process copy (`live.loaded` once it is)."""
        self._on_loaded = on_loaded
        self._follow_every_s = follow_every_s
        self._buffer: list[IndexChanges] | None = None

    def apply(self, changes: IndexChanges) -> None:
        """What a committed ingest transaction wrote. While the copy is being loaded it
        is kept and applied after the load (replaying a change the load already saw
        replaces a subject's rows by the same rows)."""
        if self._buffer is not None:
            self._buffer.append(changes)
        elif self.live.loaded:
            self.live.apply(changes)

    async def run(
        self,
        engine: AsyncEngine,
        pool: asyncpg.Pool,
        lock_sql: str,
        stop: asyncio.Event,
    ) -> None:
        departments = self.live.departments
        await _retrying(stop, "restriction index catch-up", self._catch_up(engine, lock_sql))
        await _retrying(stop, "restriction index load", self._load(pool, departments, lock_sql))
        await self._follow(pool, lock_sql, stop)

    async def _follow(self, pool: asyncpg.Pool, lock_sql: str, stop: asyncio.Event) -> None:
        """Other instances' index changes, every `follow_every_s` (live_index.py)."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._follow_every_s)
            if stop.is_set():
                return
            try:
                async with pool.acquire() as conn:
                    await follow_live(conn, self.live, lock_sql)
            except Exception:  # Postgres away: the next pass catches up
                log.warning("restriction index: following failed; retrying", exc_info=True)

    def _catch_up(self, engine: AsyncEngine, lock_sql: str) -> Callable[[], Awaitable[None]]:
        async def attempt() -> None:
            n = await catch_up(engine, self.live.departments, lock_sql)
            if n:
                log.info("restriction index: %d subjects indexed at start-up", n)
            self.ready = True

        return attempt

    def _load(
        self, pool: asyncpg.Pool, departments: frozenset[str], lock_sql: str
    ) -> Callable[[], Awaitable[None]]:
        async def attempt() -> None:
            self._buffer = []
            try:
                async with pool.acquire() as conn:
                    live = await load_live(conn, departments, lock_sql)
                for changes in self._buffer:
                    live.apply(changes)
            finally:
                self._buffer = None
            self.live = live
            self._on_loaded(len(live))
            log.info("restriction index: %d restricted subjects held in memory", len(live))

        return attempt


async def _retrying(stop: asyncio.Event, what: str, attempt: Callable[[], Awaitable[None]]) -> None:
    """Until it succeeds (Postgres away at start: the previous way of checking serves)."""
    delay = 0.5
    while not stop.is_set():
        try:
            await attempt()
            return
        except Exception:
            log.warning("%s failed; retrying", what, exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            delay = min(delay * 2, 30.0)
