"""Pure: what one lifecycle event (or the clock) does to a department's tasks of one
designation — each task's next state and row values, and the feedback to report
(one item per transition; `Plan.feedback` puts them in one message). No I/O: the
writer (execution.py) applies the plan in the pass's transaction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from services.responder.feedback import reported
from services.responder.hosting import Hosting
from services.responder.ports import Known
from services.responder.taskbook import new_task
from services.responder.transitions import OPEN, DepartmentAt, TaskState, Views, note_for, step
from shared.adapters.outbox import OutboxMessage
from shared.domain.envelope import Envelope
from shared.domain.feedback_events import ReportedMeasure
from shared.domain.fold_state import DesignationRecord

CLOCK = "clock"
"""`last_event_type` of a task the clock alone re-evaluated."""


@dataclass(frozen=True)
class Emitted:
    kinds: tuple[str, ...]
    """The feedback kinds the message reports (one per item), or (`dead_letter`,)."""
    message: OutboxMessage


@dataclass
class Plan:
    subject_id: str
    designation_id: UUID
    department: str
    cause: Envelope | None
    inserts: list[dict[str, Any]] = field(default_factory=list)
    """Rows of the new tasks."""
    updates: list[tuple[UUID, dict[str, Any]]] = field(default_factory=list)
    """(task id, the columns to set) of existing tasks."""
    known: dict[str, Known] = field(default_factory=dict)
    """Per measure, the task as the plan leaves it."""
    reports: list[ReportedMeasure] = field(default_factory=list)
    """The transitions to report, in measure order (a measure may report two:
    resumed, then executed)."""

    def feedback(self, suffix: str = "") -> list[Emitted]:
        """The reports as outbox messages: none, one single event, or one
        `measures_reported` event with an item per transition (same cause)."""
        if not self.reports:
            return []
        message = reported(
            self.reports,
            subject_id=self.subject_id,
            designation_id=self.designation_id,
            department=self.department,
            cause=self.cause,
            suffix=suffix,
        )
        return [Emitted(tuple(r.outcome for r in self.reports), message)]


def plan(
    record: DesignationRecord,
    department: str,
    existing: Mapping[str, Known],
    hosting: Hosting,
    *,
    as_of: datetime,
    cause: Envelope | None,
    now: datetime,
    views: Views | None = None,
) -> Plan:
    """Bring the department's tasks of `record` to what the fold says at `as_of`
    (`cause`: the lifecycle event applied; None when the clock alone re-evaluates).
    One report per transition, in measure order. `views`: the designations' views
    the departments share (transitions.record_at)."""
    designation_id = record.designation_id
    out = Plan(record.data.subject_id, designation_id, department, cause)
    at = DepartmentAt(record, department, as_of, views)
    specs = at.specs
    for measure in sorted(specs.keys() | existing.keys()):
        row = existing.get(measure)
        mode = row.mode if row is not None else hosting.mode(measure)
        current = None if row is None else TaskState(row.state)
        resume_to = None if row is None or row.resume_to is None else TaskState(row.resume_to)
        nxt = step(current, resume_to, at.phase(measure), mode)
        values: dict[str, Any] = {
            "state": nxt.state.value,
            "resume_to": None if nxt.resume_to is None else nxt.resume_to.value,
            "wake_at": at.wake_at(measure) if nxt.state in OPEN else None,
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
                at.task_ids,
            )
            out.inserts.append(new)
            out.known[measure] = Known(new["task_id"], mode, values["state"], values["resume_to"])
        else:
            out.updates.append((row.task_id, values))
            out.known[measure] = Known(row.task_id, mode, values["state"], values["resume_to"])
        out.reports.extend(
            ReportedMeasure(
                measure=measure,
                outcome=kind,
                note=note_for(kind, record, department, measure, as_of, mode),
            )
            for kind in nxt.reports
        )
    return out
