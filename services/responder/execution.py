"""A department applies its deliveries: fold the subject up to each event, map what
the domain says is in force onto the department's tasks (transitions.py), report.

One transaction per pass of one department: its cursor (locked), its tasks and its
feedback in the outbox commit together, so a crash anywhere neither loses nor
repeats a transition, and no other department is touched. An event this department
cannot apply is dead-lettered (with the department in the headers) and the
department goes on (see `advance`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Row, func
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.responder import store, tables
from services.responder.feedback import task_feedback
from services.responder.folds import SubjectFolds
from services.responder.hosting import Hosting
from services.responder.metrics import ResponderMetrics
from services.responder.taskbook import Known, TaskBook, new_task
from services.responder.transitions import (
    OPEN,
    TaskState,
    note_for,
    phase_of,
    step,
    wake_at,
)
from shared.adapters.observability import correlation_id
from shared.adapters.outbox import OutboxMessage, enqueue
from shared.adapters.topics import DEADLETTER, DESIGNATIONS
from shared.domain.envelope import Envelope, utc_now
from shared.domain.fold_state import SubjectState

log = logging.getLogger(__name__)

CLOCK = "clock"

Emitted = tuple[str, OutboxMessage]
"""(feedback kind or `dead_letter`, the outbox message)."""


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

    try:
        if not careful:
            return await attempt()
        async with conn.begin_nested():
            return await attempt()
    except SQLAlchemyError:
        raise  # the database, not the event: the whole pass is retried
    except Exception as exc:
        if not careful:
            raise _Unapplicable from exc
        log.exception("%s cannot apply the event at %s; dead-lettered", department, row.position)
        reason = f"{type(exc).__name__}: {exc}"
        return [("dead_letter", _dead_letter(row, reason, department, ctx.suffix))]


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
    """Bring the department's tasks of one designation to what the fold says at
    `as_of`; returns the feedback to report (one event per transition).

    Every step is worked out before anything is written, so a step that raises leaves
    neither the database nor `book` half-changed."""
    record = state.designation(designation_id)
    if record is None:
        return []
    existing = book.of(designation_id)
    updates: list[tuple[UUID, dict[str, Any]]] = []
    known: dict[str, Known] = {}
    specs = {t.measure: t for t in record.data.tasks if t.department == department}
    out: list[Emitted] = []
    inserts: list[dict[str, Any]] = []
    for measure in sorted(specs.keys() | existing.keys()):
        row = existing.get(measure)
        mode = row.mode if row is not None else ctx.hosting.mode(measure)
        current = None if row is None else TaskState(row.state)
        resume_to = None if row is None or row.resume_to is None else TaskState(row.resume_to)
        nxt = step(current, resume_to, phase_of(record, department, measure, as_of), mode)
        values: dict[str, Any] = {
            "state": nxt.state.value,
            "resume_to": None if nxt.resume_to is None else nxt.resume_to.value,
            "wake_at": wake_at(record, department, measure, as_of) if nxt.state in OPEN else None,
            "subject_name": record.data.subject_name,
            "updated_at": func.now(),
            "last_event_type": CLOCK if cause is None else cause.type,
        }
        if cause is not None:
            values["last_event_id"] = cause.id
        if row is None:
            values.setdefault("last_event_id", None)
            new = new_task(
                department,
                record.data.subject_id,
                record.data.list_type,
                specs[measure],
                mode,
                designation_id,
                values,
                utc_now(),
            )
            inserts.append(new)
            known[measure] = Known(new["task_id"], mode, values["state"], values["resume_to"])
        else:
            updates.append((row.task_id, values))
            known[measure] = Known(row.task_id, mode, values["state"], values["resume_to"])
        out.extend(
            (
                kind,
                task_feedback(
                    kind,
                    subject_id=record.data.subject_id,
                    designation_id=designation_id,
                    measure=measure,
                    department=department,
                    note=note_for(kind, record, department, measure, as_of, mode),
                    cause=cause,
                    suffix=ctx.suffix,
                ),
            )
            for kind in nxt.reports
        )
    t = tables.tasks
    for task, values in updates:
        await conn.execute(t.update().where(t.c.task_id == task).values(**values))
    if inserts:  # one round trip for the designation's new tasks
        await conn.execute(t.insert(), inserts)
    existing.update(known)
    return out


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
