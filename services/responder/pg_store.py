"""The responder's ports (ports.py) on Postgres, each bound to one connection's
transaction; `PostgresResponderStore` opens them. The queries the check path shares
(a subject's history, identifiers) stay in store.py."""

from __future__ import annotations

from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Collection,
    Iterable,
    Mapping,
    Sequence,
)
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import orjson
from aiokafka import ConsumerRecord
from sqlalchemy import bindparam, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.responder import index_store, pass_sql, store, tables
from services.responder.folds import Decoded
from services.responder.live_index import IndexChanges
from services.responder.ports import (
    Delivery,
    Incoming,
    Kept,
    Known,
    ResponderUnit,
    TaskExists,
    TaskRow,
)
from shared.adapters.consumer import Handler
from shared.adapters.db import driver_of
from shared.adapters.outbox import PostgresOutbox
from shared.domain.envelope import Envelope
from shared.domain.fold import Recorded

# Why a lock: `position` comes from an identity column, and two ingest transactions
# (two instances sharing the partitions) could commit positions out of order; a
# department reading "after my cursor" would then skip the one committed later.
# Serialising ingest transactions makes positions visible in order. The lock is
# transaction-scoped, taken once per batch: cheap next to the batch itself. Keyed by
# the schema, as the ledger's append lock is: responders in other schemas of the same
# database (a test's, another deployment's) do not share positions, so they need not
# wait for each other (they did: tests/integration/test_responder_lanes.py).
INGEST_LOCK = (
    "SELECT pg_advisory_xact_lock(hashtextextended('jsb.responder.ingest.' || current_schema(), 0))"
)


class PostgresSubjectEvents:
    """`SubjectEvents`: tables designation_events, designations, subject_identifiers
    (the ingest's per-event statements straight to the driver: pass_sql.py)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def take_ingest_turn(self) -> None:
        await self._conn.execute(text(INGEST_LOCK))

    async def departments_of(self, designation_id: UUID) -> set[str] | None:
        return (await self.departments_of_many([designation_id])).get(designation_id)

    async def departments_of_many(self, designation_ids: Collection[UUID]) -> dict[UUID, set[str]]:
        if not designation_ids:
            return {}
        driver = await driver_of(self._conn)
        rows = await driver.fetch(pass_sql.DEPARTMENTS_OF, list(designation_ids))
        return {r["designation_id"]: set(r["departments"]) for r in rows}

    async def keep(
        self,
        designation_id: UUID,
        subject_id: str,
        departments: Collection[str],
        identifiers: Collection[str],
    ) -> None:
        await self.keep_many([Kept(designation_id, subject_id, departments, identifiers)])

    async def keep_many(self, kept: Sequence[Kept]) -> None:
        if not kept:
            return
        pairs = [(v, k.subject_id) for k in kept for v in k.identifiers]
        driver = await driver_of(self._conn)
        await driver.execute(
            pass_sql.KEEP,
            [k.designation_id for k in kept],
            [k.subject_id for k in kept],
            [orjson.dumps(sorted(k.departments)).decode() for k in kept],
            [v for v, _ in pairs],
            [s for _, s in pairs],
        )

    async def widen(self, designation_id: UUID, departments: Collection[str]) -> None:
        d = tables.designations
        await self._conn.execute(
            d.update()
            .where(d.c.designation_id == designation_id)
            .values(departments=sorted(departments))
        )

    async def append(
        self, envelope: Envelope, designation_id: UUID, partition: int, offset: int
    ) -> int | None:
        one = Incoming(envelope, designation_id, partition, offset)
        (position,) = await self.append_many([one])
        return position

    async def append_many(self, events: Sequence[Incoming]) -> list[int | None]:
        if not events:
            return []
        envelopes = [e.envelope for e in events]
        driver = await driver_of(self._conn)
        rows = await driver.fetch(
            pass_sql.APPEND,
            [e.id for e in envelopes],
            [e.subject for e in envelopes],
            [e.designation_id for e in events],
            [e.type for e in envelopes],
            [e.time for e in envelopes],
            [e.model_dump_json() for e in envelopes],  # the json codec takes the JSON text
            [e.partition for e in events],
            [e.offset for e in events],
        )
        stored = {r["event_id"]: int(r["position"]) for r in rows}
        # An id met twice in the batch was stored for its first occurrence only.
        return [stored.pop(e.id, None) for e in envelopes]

    async def history(
        self, subject_ids: Iterable[str], up_to: int | None = None
    ) -> dict[str, list[Recorded]]:
        return await store.subject_events(self._conn, subject_ids, up_to)

    async def subjects_of(self, identifier: str) -> list[str]:
        return await store.subjects_of(self._conn, identifier)

    async def stored(self, position: int) -> dict[str, Any] | None:
        e = tables.designation_events
        found: dict[str, Any] | None = await self._conn.scalar(
            select(e.c.envelope).where(e.c.position == position)
        )
        return found


class PostgresDeliveryLog:
    """`DeliveryLog`: tables deliveries and departments (the cursor row is locked
    `FOR UPDATE`, so two instances hosting one department take turns)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self._locked: dict[str, int] = {}
        """The cursors this transaction locked, as read (MOVE_CURSOR's lower bound)."""

    async def deliver(self, position: int, departments: Collection[str]) -> None:
        await self.deliver_many([(position, departments)])

    async def deliver_many(self, deliveries: Sequence[tuple[int, Collection[str]]]) -> None:
        rows = [(d, position) for position, departments in deliveries for d in sorted(departments)]
        if rows:
            driver = await driver_of(self._conn)
            await driver.execute(pass_sql.DELIVER, [d for d, _ in rows], [p for _, p in rows])

    async def ensure(self, departments: Iterable[str]) -> None:
        await store.ensure_departments(self._conn, departments)

    async def lock_cursor(self, department: str) -> int:
        """The department's cursor, locked for this transaction (see tables.departments)."""
        driver = await driver_of(self._conn)
        rows = await driver.fetch(pass_sql.LOCK_CURSOR, department)
        if len(rows) != 1:
            raise LookupError(f"department {department!r} has no cursor row")
        self._locked[department] = position = int(rows[0]["position"])
        return position

    async def after(self, department: str, position: int, limit: int) -> list[Delivery]:
        """The department's next deliveries, without the events' envelopes: a pass
        takes those from the subject's history, or from another department's fold."""
        driver = await driver_of(self._conn)
        rows = await driver.fetch(pass_sql.DELIVERIES_AFTER, department, position, limit)
        return [Delivery(*r) for r in rows]

    async def move_cursor(self, department: str, position: int) -> None:
        """Move the cursor past what the pass applied; the deliveries it read are done
        (the reading list only holds pending work, so it stays small)."""
        driver = await driver_of(self._conn)
        since = self._locked.get(department, -1)  # not locked here: every one up to it
        await driver.execute(pass_sql.MOVE_CURSOR, department, position, since)

    async def cursor(self, department: str) -> int:
        d = tables.departments
        value = await self._conn.scalar(select(d.c.position).where(d.c.department == department))
        return int(value or 0)

    async def pending(self, departments: Iterable[str], now: datetime) -> list[str]:
        return await store.pending_departments(self._conn, departments, now)


T = tables.tasks


class PostgresTaskStore:
    """`TaskStore`: table tasks (rows locked `FOR UPDATE`)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def for_update(
        self, department: str, designation_ids: Iterable[UUID]
    ) -> dict[UUID, dict[str, Known]]:
        """The department's tasks of these designations, locked for the transaction
        (an officer's answer locks the same rows: see inbox.py)."""
        wanted = sorted(set(designation_ids))
        out: dict[UUID, dict[str, Known]] = {d: {} for d in wanted}
        if not wanted:
            return out
        driver = await driver_of(self._conn)
        for r in await driver.fetch(pass_sql.TASKS_FOR_UPDATE, department, wanted):
            out[r["designation_id"]][r["measure"]] = Known(
                r["task_id"], r["mode"], r["state"], r["resume_to"]
            )
        return out

    async def write(
        self, inserts: Sequence[Mapping[str, Any]], updates: Mapping[UUID, Mapping[str, Any]]
    ) -> None:
        """The new rows in one binary COPY per set of columns (every new task has the
        same, `taskbook.new_task`), one UPDATE per set of columns (executemany).

        Why COPY: the rows are the pass's largest write (48 per court designation), and
        through SQLAlchemy each row's parameters were built in Python (its executemany
        renders multi-row INSERTs): 10,000 new tasks in passes of 100 rows cost ~95 ms
        of CPU that way, ~70 ms as one `INSERT … SELECT unnest(…)` and ~48 ms as a binary
        COPY, which asyncpg encodes in C (docs/benchmarks.md, "third pass"). A task id
        that exists already fails the COPY as it failed the INSERT (`TaskExists`: the
        transaction cannot commit; execution.advance says what a pass does then). The
        updates stay on SQLAlchemy (the clock's and the lifecycle's, few)."""
        copies: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
        for row in inserts:
            copies.setdefault(tuple(row), []).append(tuple(row.values()))
        if copies:
            driver = await driver_of(self._conn)
            for names, records in copies.items():
                try:
                    await driver.copy_records_to_table(T.name, records=records, columns=names)
                except asyncpg.UniqueViolationError as exc:
                    raise TaskExists(str(exc)) from exc
        shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for task, values in updates.items():
            shape = tuple(sorted(values))
            shapes.setdefault(shape, []).append(
                {"_task": task, **{f"_v_{k}": v for k, v in values.items()}}
            )
        for shape, rows in shapes.items():
            columns: dict[str, Any] = {"updated_at": func.now()}
            columns.update({k: bindparam(f"_v_{k}") for k in shape})
            statement = T.update().where(T.c.task_id == bindparam("_task")).values(columns)
            await self._conn.execute(statement, rows)

    async def due(self, department: str, now: datetime) -> list[tuple[str, UUID]]:
        """(subject, designation) whose tasks the clock may have changed by `now`."""
        driver = await driver_of(self._conn)
        return [(r[0], r[1]) for r in await driver.fetch(pass_sql.DUE, department, now)]

    async def stop_waking(self, department: str, designation_id: UUID) -> None:
        await self._conn.execute(
            T.update()
            .where(T.c.department == department, T.c.designation_id == designation_id)
            .values(wake_at=None)
        )

    async def listed(
        self, department: str, state: str | None, designation_id: UUID | None, limit: int
    ) -> list[TaskRow]:
        query = select(T).where(T.c.department == department)
        if state is not None:
            query = query.where(T.c.state == state)
        if designation_id is not None:
            query = query.where(T.c.designation_id == designation_id)
        rows = await self._conn.execute(query.order_by(T.c.created_at, T.c.task_id).limit(limit))
        return [TaskRow(**r._mapping) for r in rows]

    async def get(self, department: str, task_id: UUID, *, lock: bool) -> TaskRow | None:
        query = select(T).where(T.c.task_id == task_id)
        if lock:
            query = query.with_for_update()
        row = (await self._conn.execute(query)).first()
        if row is None or row.department != department:
            return None
        return TaskRow(**row._mapping)


class PostgresIndexWriter:
    """`IndexWriter`: index_store.refresh on the transaction's connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def refresh(
        self, subjects: Iterable[str], departments: frozenset[str], decoded: Decoded | None = None
    ) -> IndexChanges:
        return await index_store.refresh(self._conn, subjects, departments, decoded)


def postgres_unit(conn: AsyncConnection) -> ResponderUnit:
    """The ports bound to `conn`'s transaction."""
    return ResponderUnit(
        events=PostgresSubjectEvents(conn),
        deliveries=PostgresDeliveryLog(conn),
        tasks=PostgresTaskStore(conn),
        index=PostgresIndexWriter(conn),
        outbox=PostgresOutbox(conn, tables.outbox),
    )


class PostgresResponderStore:
    """`ResponderStore` on an engine: one transaction per `begin`."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[ResponderUnit]:
        async with self.engine.begin() as conn:
            yield postgres_unit(conn)


UnitHandler = Callable[[ResponderUnit, Sequence[ConsumerRecord]], Awaitable[None]]


def on_connection(handler: UnitHandler) -> Handler:
    """A batch handler on the ports as the transactional consumer's handler (which
    gets the connection of the transaction that stores the offsets)."""

    async def handle(conn: AsyncConnection, records: Sequence[ConsumerRecord]) -> None:
        await handler(postgres_unit(conn), records)

    return handle
