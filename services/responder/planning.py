"""Pure: what one lifecycle event (or the clock) does to a department's tasks of one
designation — each task's next state and row values, and the feedback to report.
No I/O: the writer (execution.py) applies the plan in the pass's transaction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from services.responder.feedback import task_feedback
from services.responder.hosting import Hosting
from services.responder.taskbook import Known, new_task
from services.responder.transitions import OPEN, TaskState, note_for, phase_of, step, wake_at
from shared.adapters.outbox import OutboxMessage
from shared.domain.envelope import Envelope
from shared.domain.fold_state import DesignationRecord

CLOCK = "clock"
"""`last_event_type` of a task the clock alone re-evaluated."""

Emitted = tuple[str, OutboxMessage]
"""(feedback kind or `dead_letter`, the outbox message)."""


@dataclass
class Plan:
    inserts: list[dict[str, Any]] = field(default_factory=list)
    """Rows of the new tasks."""
    updates: list[tuple[UUID, dict[str, Any]]] = field(default_factory=list)
    """(task id, the columns to set) of existing tasks."""
    known: dict[str, Known] = field(default_factory=dict)
    """Per measure, the task as the plan leaves it."""
    emitted: list[Emitted] = field(default_factory=list)


def plan(
    record: DesignationRecord,
    department: str,
    existing: Mapping[str, Known],
    hosting: Hosting,
    *,
    as_of: datetime,
    cause: Envelope | None,
    now: datetime,
    suffix: str = "",
) -> Plan:
    """Bring the department's tasks of `record` to what the fold says at `as_of`
    (`cause`: the lifecycle event applied; None when the clock alone re-evaluates).
    One feedback event per transition, in measure order."""
    out = Plan()
    designation_id = record.designation_id
    specs = {t.measure: t for t in record.data.tasks if t.department == department}
    for measure in sorted(specs.keys() | existing.keys()):
        row = existing.get(measure)
        mode = row.mode if row is not None else hosting.mode(measure)
        current = None if row is None else TaskState(row.state)
        resume_to = None if row is None or row.resume_to is None else TaskState(row.resume_to)
        nxt = step(current, resume_to, phase_of(record, department, measure, as_of), mode)
        values: dict[str, Any] = {
            "state": nxt.state.value,
            "resume_to": None if nxt.resume_to is None else nxt.resume_to.value,
            "wake_at": wake_at(record, department, measure, as_of) if nxt.state in OPEN else None,
            "subject_name": record.data.subject_name,
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
                now,
            )
            out.inserts.append(new)
            out.known[measure] = Known(new["task_id"], mode, values["state"], values["resume_to"])
        else:
            out.updates.append((row.task_id, values))
            out.known[measure] = Known(row.task_id, mode, values["state"], values["resume_to"])
        out.emitted.extend(
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
                    suffix=suffix,
                ),
            )
            for kind in nxt.reports
        )
    return out
