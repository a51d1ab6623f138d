"""A department applies its deliveries: fold the subject up to each event, plan what
the domain says is in force for the department's tasks (planning.py, pure; its
rules in transitions.py), write the plan and report.

One transaction per pass of one department: its cursor (locked), its tasks and its
feedback in the outbox commit together, so a crash anywhere neither loses nor
repeats a transition, and no other department is touched. An event this department
cannot apply is dead-lettered (with the department in the headers) and the
department goes on (see `advance`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Row, func
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.responder import store, tables
from services.responder.folds import SubjectFolds
from services.responder.hosting import Hosting
from services.responder.metrics import ResponderMetrics
from services.responder.planning import Emitted, plan
from services.responder.taskbook import TaskBook
from shared.adapters.observability import correlation_id
from shared.adapters.outbox import OutboxMessage, enqueue
from shared.adapters.topics import DEADLETTER, DESIGNATIONS
from shared.domain.envelope import Envelope, utc_now
from shared.domain.fold_state import SubjectState

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Context:
    hosting: Hosting
    suffix: str = ""
    batch: int = 200
    metrics: ResponderMetrics | None = None


class _Unapplicable(Exception):
    """An event of the pass cannot be applied (raised on the fast path only)."""


async def advance(engine: AsyncEngine, department: str, ctx: Context) -> bool:
    """Apply the department's next deliveries and due clock transitions.
    Returns True when a full batch was applied (more may be waiting).

    Why two paths: a savepoint per event costs two round trips, and poison is rare.
    The fast path applies the pass without savepoints; if an event cannot be applied,
    the whole pass rolls back (nothing of it was kept) and is done again carefully,
    with a savepoint per event, dead-lettering what fails."""
    try:
        return await _pass(engine, department, ctx, careful=False)
    except _Unapplicable:
        return await _pass(engine, department, ctx, careful=True)


async def _pass(engine: AsyncEngine, department: str, ctx: Context, *, careful: bool) -> bool:
    async with engine.begin() as conn:
        cursor = await store.lock_department(conn, department)
        rows = await store.deliveries_after(conn, department, cursor, ctx.batch)
        end = rows[-1].position if rows else cursor
        folds = SubjectFolds(
            await store.subject_events(conn, {r.subject_id for r in rows}, up_to=end)
        )
        book = TaskBook()
        await book.load(conn, department, {r.designation_id for r in rows})
        out: list[Emitted] = []
        for row in rows:
            out.extend(await _apply_delivery(conn, department, row, folds, book, ctx, careful))
        # The clock's turn comes after the events: a task an event has just ended no
        # longer waits for it.
        now = utc_now()
        due = await store.due(conn, department, now)
        if not rows and not due:
            return False
        missing = {s for s, _ in due} - folds.subjects
        folds.include(await store.subject_events(conn, missing, up_to=end))
        await book.load(conn, department, {d for _, d in due})
        for subject_id, designation_id in due:
            out.extend(
                await _apply_clock(
                    conn,
                    department,
                    subject_id,
                    designation_id,
                    end,
                    now,
                    folds,
                    book,
                    ctx,
                    careful,
                )
            )
        await enqueue(conn, tables.outbox, [message for _, message in out])
        if rows:
            await store.move_department(conn, department, end)
    if ctx.metrics is not None:
        for kind, _ in out:
            if kind == "dead_letter":
                ctx.metrics.dead_letters.labels("department").inc()
            else:
                ctx.metrics.feedback.labels(kind).inc()
    return len(rows) == ctx.batch


async def _guarded(
    conn: AsyncConnection,
    careful: bool,
    attempt: Callable[[], Awaitable[list[Emitted]]],
    on_poison: Callable[[Exception], Awaitable[list[Emitted]]],
) -> list[Emitted]:
    """Run one event's (or one clock re-evaluation's) work. Fast path: as is, and an
    error aborts the pass (`_Unapplicable`). Careful path: in a savepoint, and an error
    rolls back only this work and is handed to `on_poison`. A database error is never
    the event's fault: it fails the pass, which is retried whole."""
    try:
        if not careful:
            return await attempt()
        async with conn.begin_nested():
            return await attempt()
    except SQLAlchemyError:
        raise
    except Exception as exc:
        if not careful:
            raise _Unapplicable from exc
        return await on_poison(exc)


async def _apply_delivery(
    conn: AsyncConnection,
    department: str,
    row: Row[Any],
    folds: SubjectFolds,
    book: TaskBook,
    ctx: Context,
    careful: bool,
) -> list[Emitted]:
    async def attempt() -> list[Emitted]:
        cause = Envelope.model_validate(row.envelope)
        correlation_id.set(cause.correlationid or str(cause.id))
        state, latest = folds.up_to(row.subject_id, row.position)
        as_of = max(latest or cause.time, cause.time)
        return await apply(conn, department, state, row.designation_id, as_of, cause, ctx, book)

    async def dead_letter(exc: Exception) -> list[Emitted]:
        log.exception("%s cannot apply the event at %s; dead-lettered", department, row.position)
        reason = f"{type(exc).__name__}: {exc}"
        return [("dead_letter", _dead_letter(row, reason, department, ctx.suffix))]

    return await _guarded(conn, careful, attempt, dead_letter)


async def _apply_clock(
    conn: AsyncConnection,
    department: str,
    subject_id: str,
    designation_id: UUID,
    end: int,
    now: datetime,
    folds: SubjectFolds,
    book: TaskBook,
    ctx: Context,
    careful: bool,
) -> list[Emitted]:
    async def attempt() -> list[Emitted]:
        state, _ = folds.up_to(subject_id, end)
        return await apply(conn, department, state, designation_id, now, None, ctx, book)

    async def stop_waking(exc: Exception) -> list[Emitted]:
        # Never retried by the clock again (it would fail the same way); the next
        # event of the designation re-evaluates it.
        log.exception("%s: clock transition of %s failed", department, designation_id)
        t = tables.tasks
        await conn.execute(
            t.update()
            .where(t.c.department == department, t.c.designation_id == designation_id)
            .values(wake_at=None)
        )
        return []

    return await _guarded(conn, careful, attempt, stop_waking)


async def apply(
    conn: AsyncConnection,
    department: str,
    state: SubjectState,
    designation_id: UUID,
    as_of: datetime,
    cause: Envelope | None,
    ctx: Context,
    book: TaskBook,
) -> list[Emitted]:
    """Plan the department's tasks of one designation at `as_of` (planning.plan, pure),
    then write the plan; returns the feedback to report. The plan is complete before
    anything is written, so a step that raises leaves neither the database nor `book`
    half-changed."""
    record = state.designation(designation_id)
    if record is None:
        return []
    existing = book.of(designation_id)
    todo = plan(
        record,
        department,
        existing,
        ctx.hosting,
        as_of=as_of,
        cause=cause,
        now=utc_now(),
        suffix=ctx.suffix,
    )
    t = tables.tasks
    for task, values in todo.updates:
        await conn.execute(
            t.update().where(t.c.task_id == task).values(**values, updated_at=func.now())
        )
    if todo.inserts:  # one round trip for the designation's new tasks
        await conn.execute(t.insert(), todo.inserts)
    existing.update(todo.known)
    return todo.emitted


def _dead_letter(row: Row[Any], reason: str, department: str, suffix: str) -> OutboxMessage:
    return OutboxMessage(
        topic=DEADLETTER + suffix,
        key=row.subject_id,
        value=json.dumps(row.envelope, ensure_ascii=False).encode(),
        headers={
            "jsb-reason": reason[:1000],
            "jsb-consumer": f"responder.department.{department}",
            "jsb-source-topic": DESIGNATIONS + suffix,
            "jsb-source-partition": str(row.source_partition),
            "jsb-source-offset": str(row.source_offset),
        },
    )
