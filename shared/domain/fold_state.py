"""The state the fold builds for one subject, and the rules that read the clock.

Immutable: `evolve` returns new records, never changes one. Two parts, kept apart on
purpose so that their arrival order does not matter (ARCHITECTURE.md §3):

- `designations`, built from the lifecycle stream (jsb.designations.v1, ordered per
  subject);
- `feedback`, built from the feedback stream (jsb.feedback.v1, ordered per subject),
  keyed by task (designation, measure, department) whether or not the designation has
  arrived yet: feedback that overtakes its designation is simply held here, and shows
  up on the task once the designation is known.

The clock rules (`state_at`, `measures_in_force`) assume the state holds no event
after `as_of`; `fold.status` filters events first to answer for a past instant.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from shared.domain.event_base import FieldChange, ObjectionOutcome, RaisedBy, TaskSpec
from shared.domain.lifecycle_events import DesignationIssued
from shared.domain.vocabulary import ExpiryMode, Polarity


class DesignationState(StrEnum):
    PENDING = "pending"  # effective_from is later than as_of
    IN_FORCE = "in_force"
    SUSPENDED = "suspended"  # objection open on a regime that suspends measures
    EXPIRED = "expired"
    EXITED = "exited"
    REPAIRED = "repaired"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"


class TaskState(StrEnum):
    PENDING = "pending"  # no feedback yet
    EXECUTED = "executed"
    NOT_APPLICABLE = "not_applicable"
    FAILED = "failed"
    SUSPENDED = "suspended"
    LIFTED = "lifted"


# After these ends a measure with a duration of its own stays in force until its
# `until` (a statutory ban outlives the list); revocation and repair lift it too.
OUTLIVED_BY_OWN_DURATION = frozenset(
    {DesignationState.EXPIRED, DesignationState.EXITED, DesignationState.SUPERSEDED}
)

TaskKey = tuple[UUID, str, str]
"""(designation_id, measure, department)."""


@dataclass(frozen=True, slots=True)
class FeedbackEntry:
    event_id: UUID
    kind: str  # the event type's last part: executed, suspended, ...
    at: datetime
    note: str


@dataclass(frozen=True, slots=True)
class TaskFeedback:
    state: TaskState = TaskState.PENDING
    before_suspension: TaskState = TaskState.PENDING
    history: tuple[FeedbackEntry, ...] = ()
    """State-changing feedback in arrival order (interceptions are only counted)."""
    interceptions: int = 0
    last_intercepted_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ObjectionRecord:
    objection_id: UUID
    raised_by: RaisedBy
    department: str | None
    grounds: str
    filed_at: datetime
    review_deadline: date
    suspends_measures: bool
    pauses_clock: bool
    outcome: ObjectionOutcome | None = None
    resolved_at: datetime | None = None
    note: str = ""

    @property
    def is_open(self) -> bool:
        return self.outcome is None


@dataclass(frozen=True, slots=True)
class Amendment:
    at: datetime
    reason: str
    changes: Mapping[str, FieldChange]
    objection_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class RepairDecision:
    at: datetime
    granted: bool
    measures: tuple[str, ...] | None
    note: str


@dataclass(frozen=True, slots=True)
class ExitRecord:
    window_opens_on: date | None = None
    applied_at: datetime | None = None
    approved_at: datetime | None = None
    exited_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Ending:
    """How a designation ended; `at` may lie ahead (an exit takes effect at the end)."""

    state: DesignationState
    at: datetime
    reason: str = ""
    by_designation_id: UUID | None = None
    restore_reputation: bool | None = None


@dataclass(frozen=True, slots=True)
class DesignationRecord:
    data: DesignationIssued
    """As issued, with every amendment applied (the history is in `amendments`)."""
    issued_at: datetime
    objections: tuple[ObjectionRecord, ...] = ()
    amendments: tuple[Amendment, ...] = ()
    repairs: tuple[RepairDecision, ...] = ()
    lifted: frozenset[str] = frozenset()
    """Measures lifted by a partial repair."""
    exit: ExitRecord = field(default_factory=ExitRecord)
    end: Ending | None = None

    @property
    def designation_id(self) -> UUID:
        return self.data.designation_id

    @property
    def open_objection(self) -> ObjectionRecord | None:
        return next((o for o in self.objections if o.is_open), None)

    def objection(self, objection_id: UUID) -> ObjectionRecord | None:
        return next((o for o in self.objections if o.objection_id == objection_id), None)

    def state_at(self, as_of: datetime) -> DesignationState:
        """The designation's state at `as_of`, the clock included: expiry needs no event."""
        if self.end is not None and self.end.at <= as_of:
            return self.end.state
        if as_of < self.data.effective_from:
            return DesignationState.PENDING
        objection = self.open_objection
        until = self.data.effective_until
        clock_paused = objection is not None and objection.pauses_clock
        if (
            self.data.expiry is ExpiryMode.AUTOMATIC
            and until is not None
            and as_of >= until
            and not clock_paused
        ):
            return DesignationState.EXPIRED
        if objection is not None and objection.suspends_measures:
            return DesignationState.SUSPENDED
        return DesignationState.IN_FORCE

    def measures_in_force(self, as_of: datetime) -> tuple[TaskSpec, ...]:
        """Tasks whose measure applies at `as_of` (partially repaired ones excluded)."""
        state = self.state_at(as_of)
        if state is DesignationState.IN_FORCE:
            return tuple(t for t in self.data.tasks if t.measure not in self.lifted)
        if state in OUTLIVED_BY_OWN_DURATION:
            return tuple(
                t
                for t in self.data.tasks
                if t.until is not None and as_of < t.until and t.measure not in self.lifted
            )
        return ()

    def is_sanction_in_force(self, as_of: datetime) -> bool:
        """A sanction listing in force, or a measure of one that outlives it. A
        record-only tier is a record, not a sanction."""
        return (
            self.data.polarity is Polarity.SANCTION
            and not self.data.record_only
            and (
                self.state_at(as_of) is DesignationState.IN_FORCE
                or bool(self.measures_in_force(as_of))
            )
        )

    def is_joint_sanction_in_force(self, as_of: datetime) -> bool:
        """A sanction in force on a joint-sanction tier: what the cross-check (交叉比对)
        keys on (001 五(二); 004 篇七 第六条), not a warning tier."""
        return self.data.joint_sanction and self.is_sanction_in_force(as_of)


@dataclass(frozen=True, slots=True)
class SubjectState:
    """Everything known about one subject; build it with `fold.fold` / `fold.evolve`."""

    subject_id: str | None = None
    designations: Mapping[UUID, DesignationRecord] = field(default_factory=dict)
    """In the order they were issued."""
    feedback: Mapping[TaskKey, TaskFeedback] = field(default_factory=dict)

    def designation(self, designation_id: UUID) -> DesignationRecord | None:
        return self.designations.get(designation_id)

    def objection(self, objection_id: UUID) -> tuple[DesignationRecord, ObjectionRecord] | None:
        for record in self.designations.values():
            objection = record.objection(objection_id)
            if objection is not None:
                return record, objection
        return None

    def listings(self, list_type: str) -> tuple[DesignationRecord, ...]:
        """The subject's designations on a list type, oldest first (for repair lock-outs)."""
        return tuple(
            sorted(
                (r for r in self.designations.values() if r.data.list_type == list_type),
                key=lambda r: (r.data.effective_from, str(r.designation_id)),
            )
        )

    def joint_sanctions_in_force(self, as_of: datetime) -> tuple[DesignationRecord, ...]:
        """Sanctions in force that remove incentives (the cross-check)."""
        return tuple(r for r in self.designations.values() if r.is_joint_sanction_in_force(as_of))

    def task_feedback(self, key: TaskKey) -> TaskFeedback:
        return self.feedback.get(key, _NO_FEEDBACK)

    def with_designation(self, record: DesignationRecord) -> SubjectState:
        return replace(self, designations={**self.designations, record.designation_id: record})

    def with_feedback(self, key: TaskKey, feedback: TaskFeedback) -> SubjectState:
        return replace(self, feedback={**self.feedback, key: feedback})


_NO_FEEDBACK = TaskFeedback()
