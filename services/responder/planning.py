"""Pure: what one lifecycle event (or the clock) does to a department's tasks of one
designation — each task's next state and row values, and the feedback to report
(one item per transition; `Plan.feedback` puts them in one message). No I/O: the
writer (execution.py) applies the plan in the pass's transaction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple, cast
from uuid import UUID

from services.responder.feedback import Head, head_of, reported_by
from services.responder.hosting import Hosting
from services.responder.ports import Known
from services.responder.taskbook import new_task
from services.responder.transitions import (
    OPEN,
    DepartmentAt,
    RecordAt,
    TaskState,
    Views,
    note_for,
    step,
)
from shared.adapters.outbox import OutboxMessage
from shared.domain.envelope import Envelope
from shared.domain.feedback_events import Outcome
from shared.domain.fold_state import DesignationRecord

CLOCK = "clock"
"""`last_event_type` of a task the clock alone re-evaluated."""


class Report(NamedTuple):
    """One transition to report (an item of the feedback). A tuple, not the event's
    `ReportedMeasure`: its validation was ~0.8 us a task, and the feedback is
    serialised without the models anyway (feedback.py)."""

    measure: str
    outcome: Outcome
    note: str


class Emitted(NamedTuple):
    """A pass's message (one per department and designation at an issue): a tuple, as
    `Report` and `Known` are."""

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
    reports: list[Report] = field(default_factory=list)
    """The transitions to report, in measure order (a measure may report two:
    resumed, then executed)."""
    head: Head | None = None
    """The feedback's designation and cause as text, shared with the other departments'
    plans (`_head`); made here when None."""
    time: datetime | None = None
    """The feedback's time (now when None)."""

    def feedback(self, suffix: str = "") -> list[Emitted]:
        """The reports as outbox messages: none, one single event, or one
        `measures_reported` event with an item per transition (same cause)."""
        if not self.reports:
            return []
        head = self.head or head_of(self.subject_id, self.designation_id, self.cause)
        message = reported_by(head, self.reports, self.department, suffix, time=self.time)
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
    the departments share (transitions.record_at). The feedback is timed `now`."""
    at = DepartmentAt(record, department, as_of, views)
    head = _head(at.view, cause)
    out = Plan(
        record.data.subject_id, record.designation_id, department, cause, head=head, time=now
    )
    if existing:
        _plan_each(out, at, record, existing, hosting, as_of=as_of, cause=cause, now=now)
    else:
        _plan_new(out, at, record, hosting, as_of=as_of, cause=cause, now=now)
    return out


def _head(view: RecordAt, cause: Envelope | None) -> Head:
    """The feedback's head for `cause`, made once for every department (kept in the
    designation's shared view with the cause it was made of, compared by identity:
    the departments apply the memo's one decoded cause, fold_memo.py)."""
    key = ("head", id(cause))
    found = view.shared.get(key)
    if found is not None and found[0] is cause:
        return cast(Head, found[1])
    head = head_of(view.record.data.subject_id, view.record.designation_id, cause)
    view.shared[key] = (cause, head)
    return head


def _plan_new(
    out: Plan,
    at: DepartmentAt,
    record: DesignationRecord,
    hosting: Hosting,
    *,
    as_of: datetime,
    cause: Envelope | None,
    now: datetime,
) -> None:
    """`_plan_each` for a department that has none of the designation's tasks yet (every
    department at a designation's issue: 48 tasks over 31 departments for a court
    bundle), with what does not change from one task to the next taken once. The same
    rows, in the same column order, and the same reports as `_plan_each` with no
    existing task (tests/unit/test_responder_plan_new.py)."""
    specs = at.specs
    if not specs:
        return
    department = at.department
    data = record.data
    designation_id = record.designation_id
    ids = at.task_ids
    last_type = CLOCK if cause is None else cause.type
    last_id = None if cause is None else cause.id
    inserts, known, reports = out.inserts, out.known, out.reports
    for measure in sorted(specs):
        spec = specs[measure]
        mode = hosting.mode(measure)
        nxt = step(None, None, at.phase(measure), mode)
        state = nxt.state.value
        resume_to = None if nxt.resume_to is None else nxt.resume_to.value
        task = ids.of(measure, department)
        inserts.append(
            {
                "task_id": task,
                "department": department,
                "designation_id": designation_id,
                "measure": measure,
                "subject_id": data.subject_id,
                "list_type": data.list_type,
                "mode": mode,
                "mandatory": spec.mandatory,
                "deadline": spec.deadline,
                "state": state,
                "resume_to": resume_to,
                "wake_at": at.wake_at(measure) if nxt.state in OPEN else None,
                "subject_name": data.subject_name,
                "last_event_type": last_type,
                "last_event_id": last_id,
                "updated_at": now,
            }
        )
        known[measure] = Known(task, mode, state, resume_to)
        for kind in nxt.reports:
            reports.append(
                Report(measure, kind, note_for(kind, record, department, measure, as_of, mode))
            )


def _plan_each(
    out: Plan,
    at: DepartmentAt,
    record: DesignationRecord,
    existing: Mapping[str, Known],
    hosting: Hosting,
    *,
    as_of: datetime,
    cause: Envelope | None,
    now: datetime,
) -> None:
    """Each measure the department has a task for, or is listed for: its next state."""
    department = at.department
    designation_id = record.designation_id
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
            Report(measure, kind, note_for(kind, record, department, measure, as_of, mode))
            for kind in nxt.reports
        )
