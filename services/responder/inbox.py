"""The department's inbox: manual tasks wait here until an officer reports.

An answer locks the task row (FOR UPDATE), as the department's lane does when a
lifecycle event changes the task: an officer's answer and a suspension or lifting
therefore never interleave — whichever commits second sees the other's result
(a suspended or lifted task is no longer open: 409).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.responder import tables
from services.responder.feedback import task_feedback
from services.responder.schemas import FeedbackCreate
from services.responder.transitions import TaskState
from shared.adapters.outbox import enqueue
from shared.domain.errors import Conflict, NotFound

T = tables.tasks


async def list_tasks(
    conn: AsyncConnection,
    department: str,
    state: str | None,
    designation_id: UUID | None,
    limit: int,
) -> list[Any]:
    query = select(T).where(T.c.department == department)
    if state is not None:
        query = query.where(T.c.state == state)
    if designation_id is not None:
        query = query.where(T.c.designation_id == designation_id)
    rows = await conn.execute(query.order_by(T.c.created_at, T.c.task_id).limit(limit))
    return list(rows.all())


async def task_of(conn: AsyncConnection, department: str, task_id: UUID, *, lock: bool) -> Any:
    """The department's task, or 404 (another department's task is not found either)."""
    query = select(T).where(T.c.task_id == task_id)
    if lock:
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    if row is None or row.department != department:
        raise NotFound("task_not_found", "task_id", f"no task {task_id} in {department}'s inbox")
    return row


async def answer(
    conn: AsyncConnection, department: str, task_id: UUID, body: FeedbackCreate, suffix: str
) -> Any:
    """Record the officer's outcome of a pending task and report it (same transaction)."""
    row = await task_of(conn, department, task_id, lock=True)
    if row.state != TaskState.PENDING.value:
        raise Conflict(
            "task_not_pending",
            "task_id",
            f"task {task_id} is {row.state}: only a pending task takes an answer",
        )
    outcome = TaskState(body.outcome)
    await conn.execute(
        T.update()
        .where(T.c.task_id == task_id)
        .values(
            state=outcome.value,
            note=body.note,
            answered_at=datetime.now(UTC),
            updated_at=datetime.now(UTC),
            # An executed measure still follows its designation (and the clock);
            # not_applicable and failed close the task.
            wake_at=row.wake_at if outcome is TaskState.EXECUTED else None,
        )
    )
    message = task_feedback(
        outcome.value,
        subject_id=row.subject_id,
        designation_id=row.designation_id,
        measure=row.measure,
        department=department,
        note=body.note or f"reported {outcome.value} by an officer",
        cause=None,
        suffix=suffix,
    )
    await enqueue(conn, tables.outbox, [message])
    return await task_of(conn, department, task_id, lock=False)
