"""The shapes of a subject's status (the read model every service shows).

`SubjectStatus.model_dump(mode="json")` is the ledger's HTTP contract (issue 4) and,
as `StatusChanged`, the data of `jsb.status.changed` on jsb.status.v1. Fields may be
added; none renamed. Built by `status_view.render_status`.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict

from shared.domain.event_base import (
    CaseFacts,
    FieldChange,
    LegalBasis,
    RaisedBy,
    RelatedDesignation,
    RelatedRole,
)
from shared.domain.fold_state import DesignationState, TaskState
from shared.domain.vocabulary import ExpiryMode, Level, Polarity, SubjectKind


class _View(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FeedbackView(_View):
    event_id: UUID
    kind: str
    at: AwareDatetime
    note: str


class TaskStatus(_View):
    measure: str
    department: str
    state: TaskState
    deadline: date
    overdue: bool
    """Still pending after its deadline while the designation is in force."""
    mandatory: bool
    until: AwareDatetime | None
    interceptions: int
    last_intercepted_at: AwareDatetime | None
    feedback: tuple[FeedbackView, ...]


class ObjectionStatus(_View):
    objection_id: UUID
    status: Literal["open", "rejected", "upheld", "partially_upheld"]
    raised_by: RaisedBy
    department: str | None
    grounds: str
    filed_at: AwareDatetime
    review_deadline: date
    overdue: bool
    """Still open after its review deadline."""
    suspends_measures: bool
    pauses_clock: bool
    resolved_at: AwareDatetime | None
    note: str


class AmendmentView(_View):
    at: AwareDatetime
    reason: str
    changes: dict[str, FieldChange]
    objection_id: UUID | None


class RepairView(_View):
    at: AwareDatetime
    granted: bool
    measures: tuple[str, ...] | None
    note: str


class ExitView(_View):
    window_opens_on: date | None
    applied_at: AwareDatetime | None
    approved_at: AwareDatetime | None
    exited_at: AwareDatetime | None


class DesignationStatus(_View):
    designation_id: UUID
    list_type: str
    polarity: Polarity
    level: Level
    state: DesignationState
    effective_from: AwareDatetime
    effective_until: AwareDatetime | None
    objection: ObjectionStatus | None
    """The open objection, else the latest one, else None (存在异议 when open)."""
    tasks: tuple[TaskStatus, ...]
    # -- beyond the minimal contract --
    subject_name: str
    reason: str
    legal_basis: tuple[LegalBasis, ...]
    decision_no: str
    decided_at: date
    designated_by: str
    expiry: ExpiryMode
    published: bool
    issued_at: AwareDatetime
    ended_at: AwareDatetime | None
    end_reason: str
    restore_reputation: bool | None
    superseded_by: UUID | None
    suppressed: bool
    """An incentive that does not take effect while a sanction is in force (交叉比对)."""
    lifted_measures: tuple[str, ...]
    parent_designation_id: UUID | None
    related_role: RelatedRole | None
    related: tuple[RelatedDesignation, ...]
    objections: tuple[ObjectionStatus, ...]
    amendments: tuple[AmendmentView, ...]
    repairs: tuple[RepairView, ...]
    exit: ExitView
    catalogue_version: str
    joint_sanction: bool = True
    """A joint-sanction target (the cross-check removes incentives)."""
    record_only: bool = False
    """A record-only or warning tier: a record, not a sanction."""
    facts: CaseFacts = CaseFacts()
    """The facts of the case the measures and the period were decided on."""


class MeasureInForce(_View):
    measure: str
    department: str
    designation_id: UUID
    list_type: str
    polarity: Polarity
    until: AwareDatetime | None
    """Set when the measure outlives its ended designation: the end of its own duration.
    None: in force as long as the designation is."""


class SubjectStatus(_View):
    subject_id: str
    subject_kind: SubjectKind | None
    as_of: AwareDatetime
    known_at: AwareDatetime | None
    restricted: bool
    """A sanction measure is in force."""
    designations: tuple[DesignationStatus, ...]
    measures_in_force: tuple[MeasureInForce, ...]
    incentives_in_force: tuple[MeasureInForce, ...]
    """Empty while any sanction is in force (交叉比对)."""
    names: tuple[str, ...]
    """Every name the subject was designated under (aliases, old and new)."""
    identifiers: tuple[str, ...]


class StatusChanged(SubjectStatus):
    """The data of `jsb.status.changed` on jsb.status.v1 (keyed and compacted by subject):
    the subject's status after a change, and the event that caused it."""

    TYPE: ClassVar[str] = "jsb.status.changed"
    VERSION: ClassVar[int] = 1

    caused_by: UUID
    """Id of the event whose arrival changed the status."""
