"""A department's task transitions: what the fold says is in force → what to report.

Pure. The domain decides what is in force (`DesignationRecord.state_at`,
`measures_in_force`); this module only maps that onto one task's life:

    (new) ──active──► executed (auto) | pending (manual, the officer's inbox)
    executed | pending ──suspended──► suspended ──active──► back (resumed)
    executed | pending | suspended ──ended──► lifted
    not_applicable | failed: closed, nothing was applied, nothing to suspend or lift

and names the feedback each transition reports on jsb.feedback.v1.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from services.responder.settings import ExecutionMode
from services.responder.task_ids import TaskIds
from shared.domain.event_base import TaskSpec
from shared.domain.feedback_events import Outcome
from shared.domain.fold_state import DesignationRecord, DesignationState


class Phase(StrEnum):
    ACTIVE = "active"  # the measure applies (or will, from effective_from)
    SUSPENDED = "suspended"  # an open objection on a regime that suspends (暂不执行)
    ENDED = "ended"  # revoked, repaired, expired, exited, superseded, or removed


class TaskState(StrEnum):
    PENDING = "pending"
    EXECUTED = "executed"
    NOT_APPLICABLE = "not_applicable"
    FAILED = "failed"
    SUSPENDED = "suspended"
    LIFTED = "lifted"


OPEN = frozenset({TaskState.PENDING, TaskState.EXECUTED, TaskState.SUSPENDED})
"""States in which the task still follows its designation."""


@dataclass(frozen=True)
class Step:
    state: TaskState
    resume_to: TaskState | None
    reports: tuple[Outcome, ...]
    """Feedback kinds to report, in order (`executed`, `suspended`, `resumed`, `lifted`)."""


class RecordAt:
    """A designation at one instant, for every department: its tasks grouped by
    department, and the measures in force, each computed once. Every department
    hosted by the process plans the same designation at the same instant (the fold
    is shared, fold_memo.py), so `record_at` keeps them in the views it is given: the
    fold memo's (held by identity: the record is immutable)."""

    __slots__ = (
        "_task_ids",
        "as_of",
        "in_force",
        "later",
        "record",
        "shared",
        "specs",
        "state",
        "untils",
    )

    def __init__(self, record: DesignationRecord, as_of: datetime) -> None:
        self.record, self.as_of = record, as_of
        self.specs: dict[str, dict[str, TaskSpec]] = {}
        self.untils: dict[tuple[str, str], list[datetime]] = {}
        for t in record.data.tasks:
            self.specs.setdefault(t.department, {})[t.measure] = t
            if t.until is not None and t.until > as_of:
                self.untils.setdefault((t.department, t.measure), []).append(t.until)
        self.in_force = {(t.department, t.measure) for t in record.measures_in_force(as_of)}
        ends = [record.data.effective_from, record.data.effective_until]
        if record.end is not None:
            ends.append(record.end.at)
        self.later = tuple(c for c in ends if c is not None and c > as_of)
        self.state: DesignationState | None = None
        self._task_ids: TaskIds | None = None
        self.shared: dict[Any, Any] = {}
        """What else the departments' planning makes once for the designation at the
        instant (planning.py: the feedback's head per cause), under its own keys."""

    @property
    def task_ids(self) -> TaskIds:
        """The designation's task ids (task_ids.TaskIds), made when first asked."""
        if self._task_ids is None:
            self._task_ids = TaskIds(self.record.designation_id)
        return self._task_ids


Views = MutableMapping[tuple[int, datetime], RecordAt]
"""Designations' views by (record identity, instant): `FoldMemo.views`, bounded by the
memo's count and age (fold_memo.py says why both)."""


def record_at(record: DesignationRecord, as_of: datetime, views: Views | None = None) -> RecordAt:
    """The designation at `as_of`, reused from `views` while the departments plan it
    (the entry holds the record, so its `id` cannot be reused while it is kept);
    made afresh without `views`."""
    if views is None:
        return RecordAt(record, as_of)
    key = (id(record), as_of)
    found = views.get(key)
    if found is not None and found.record is record:
        return found
    made = views[key] = RecordAt(record, as_of)
    return made


class DepartmentAt:
    """One department's measures of one designation at one instant. `phase_of` and
    `wake_at` used to rescan the designation's tasks (48 for a court bundle) and
    re-evaluate what is in force once per measure, for each of ~30 departments: 8.6 %
    of the responder's event loop in the pipeline bench, then 7.6 % for the same scans
    once per department (py-spy, docs/benchmarks.md "Pipeline"); now once per
    designation and instant (`record_at`, reused through `views`). Same answers
    (tests/unit/test_responder_department_at.py)."""

    __slots__ = ("_at", "department", "specs")

    def __init__(
        self,
        record: DesignationRecord,
        department: str,
        as_of: datetime,
        views: Views | None = None,
    ) -> None:
        self._at = record_at(record, as_of, views)
        self.department = department
        self.specs: Mapping[str, TaskSpec] = self._at.specs.get(department, {})
        """The department's tasks by measure."""

    @property
    def task_ids(self) -> TaskIds:
        return self._at.task_ids

    @property
    def view(self) -> RecordAt:
        """The designation at the instant, shared by the departments."""
        return self._at

    def listed(self, measure: str) -> bool:
        return measure in self.specs

    def phase(self, measure: str) -> Phase:
        """What the domain says about the measure at the instant."""
        at = self._at
        if measure not in self.specs or measure in at.record.lifted:
            return Phase.ENDED
        if (self.department, measure) in at.in_force:
            return Phase.ACTIVE
        if at.state is None:
            at.state = at.record.state_at(at.as_of)
        if at.state is DesignationState.PENDING:  # takes effect later: applied now
            return Phase.ACTIVE
        if at.state is DesignationState.SUSPENDED:
            return Phase.SUSPENDED
        return Phase.ENDED

    def wake_at(self, measure: str) -> datetime | None:
        """The next instant after the instant at which the clock alone may change the
        measure's phase (effective from/until, an ending that lies ahead, the
        measure's own duration)."""
        own = self._at.untils.get((self.department, measure), ())
        return min((*self._at.later, *own), default=None)


def phase_of(record: DesignationRecord, department: str, measure: str, as_of: datetime) -> Phase:
    """What the domain says about this department's measure at `as_of`."""
    return DepartmentAt(record, department, as_of).phase(measure)


def step(
    current: TaskState | None, resume_to: TaskState | None, phase: Phase, mode: ExecutionMode
) -> Step:
    """The task's next state for `phase` (None: the task is new)."""
    if current is None or current is TaskState.LIFTED:
        return _start(current, phase, mode)
    if current in (TaskState.NOT_APPLICABLE, TaskState.FAILED):
        return Step(current, None, ())
    if phase is Phase.ENDED:
        return Step(TaskState.LIFTED, None, ("lifted",))
    if phase is Phase.SUSPENDED:
        if current is TaskState.SUSPENDED:
            return Step(current, resume_to, ())
        return Step(TaskState.SUSPENDED, current, ("suspended",))
    if current is TaskState.SUSPENDED:
        back = resume_to or TaskState.PENDING
        if back is TaskState.PENDING and mode == "auto":  # never applied yet: apply now
            return Step(TaskState.EXECUTED, None, ("resumed", "executed"))
        return Step(back, None, ("resumed",))
    return Step(current, None, ())


def _start(current: TaskState | None, phase: Phase, mode: ExecutionMode) -> Step:
    """A new task, or a lifted one that its designation wants again (an amendment
    gave the measure back)."""
    if phase is Phase.ACTIVE:
        if mode == "auto":
            return Step(TaskState.EXECUTED, None, ("executed",))
        return Step(TaskState.PENDING, None, ())
    if phase is Phase.SUSPENDED:
        return Step(TaskState.SUSPENDED, TaskState.PENDING, ("suspended",))
    # Ended before it was ever applied: reported once, so the task is not left open.
    return Step(TaskState.LIFTED, None, () if current is TaskState.LIFTED else ("lifted",))


def wake_at(
    record: DesignationRecord, department: str, measure: str, as_of: datetime
) -> datetime | None:
    """The next instant after `as_of` at which the clock alone may change the phase
    (effective from/until, an ending that lies ahead, the measure's own duration)."""
    return DepartmentAt(record, department, as_of).wake_at(measure)


def note_for(
    kind: str,
    record: DesignationRecord,
    department: str,
    measure: str,
    as_of: datetime,
    mode: ExecutionMode,
) -> str:
    """A short, human reason for a reported transition (goes into the feedback note)."""
    if kind == "executed":
        return "applied automatically" if mode == "auto" else "applied"
    if kind == "suspended":
        objection = record.open_objection
        ref = f" {objection.objection_id}" if objection else ""
        return f"objection{ref} under review: not executed meanwhile (暂不执行)"
    if kind == "resumed":
        return "objection resolved: in force again"
    return "lifted: " + end_reason(record, department, measure, as_of)


def end_reason(record: DesignationRecord, department: str, measure: str, as_of: datetime) -> str:
    if not DepartmentAt(record, department, as_of).listed(measure):
        return "measure removed by an amendment"
    if measure in record.lifted:
        return "measure lifted by credit repair"
    state = record.state_at(as_of)
    if state is DesignationState.EXPIRED and record.end is None:
        return "designation expired (period over)"
    if state in (DesignationState.IN_FORCE, DesignationState.SUSPENDED):
        return "the measure's own duration is over"
    reason = record.end.reason if record.end is not None and record.end.reason else ""
    return f"designation {state.value}" + (f" ({reason})" if reason else "")
