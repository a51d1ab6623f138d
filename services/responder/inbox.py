"""The department's inbox: manual tasks wait here until an officer reports.

An answer holds the task (`TaskStore.get(lock=True)`; in Postgres `FOR UPDATE`), as
the department's lane does when a lifecycle event changes the task: an officer's
answer and a suspension or lifting therefore never interleave — whichever commits
second sees the other's result (a suspended or lifted task is no longer open: 409).
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from services.responder.feedback import task_feedback
from services.responder.ports import ResponderUnit, TaskRow
from services.responder.schemas import FeedbackCreate
from services.responder.transitions import TaskState
from shared.domain.errors import Conflict, NotFound


async def list_tasks(
    unit: ResponderUnit,
    department: str,
    state: str | None,
    designation_id: UUID | None,
    limit: int,
) -> list[TaskRow]:
    return await unit.tasks.listed(department, state, designation_id, limit)


async def task_of(unit: ResponderUnit, department: str, task_id: UUID, *, lock: bool) -> TaskRow:
    """The department's task, or 404 (another department's task is not found either)."""
    row = await unit.tasks.get(department, task_id, lock=lock)
    if row is None:
        raise NotFound("task_not_found", "task_id", f"no task {task_id} in {department}'s inbox")
    return row


async def answer(
    unit: ResponderUnit, department: str, task_id: UUID, body: FeedbackCreate, suffix: str
) -> TaskRow:
    """Record the officer's outcome of a pending task and report it (same transaction)."""
    row = await task_of(unit, department, task_id, lock=True)
    if row.state != TaskState.PENDING.value:
        raise Conflict(
            "task_not_pending",
            "task_id",
            f"task {task_id} is {row.state}: only a pending task takes an answer",
        )
    outcome = TaskState(body.outcome)
    at = datetime.now(UTC)
    values = {
        "state": outcome.value,
        "note": body.note,
        "answered_at": at,
        "updated_at": at,
        # An executed measure still follows its designation (and the clock);
        # not_applicable and failed close the task.
        "wake_at": row.wake_at if outcome is TaskState.EXECUTED else None,
    }
    await unit.tasks.write([], {task_id: values})
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
    await unit.outbox.enqueue([message])
    return await task_of(unit, department, task_id, lock=False)
