"""The subject's status at an instant: the read model every service shows.

`SubjectStatus.model_dump(mode="json")` is the ledger's HTTP contract (issue 4) and the
data of `jsb.status.changed` on jsb.status.v1. Fields may be added; none renamed.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict

from shared.domain.china_time import china_date
from shared.domain.event_base import (
    FieldChange,
    LegalBasis,
    RaisedBy,
    RelatedDesignation,
    RelatedRole,
)
from shared.domain.fold_state import (
    DesignationRecord,
    DesignationState,
    ObjectionRecord,
    SubjectState,
    TaskState,
)
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


class MeasureInForce(_View):
    measure: str
    department: str
    designation_id: UUID
    list_type: str
    polarity: Polarity
    until: AwareDatetime | None
    """When it outlives its designation: the end of its own duration."""


class SubjectStatus(_View):
    TYPE: ClassVar[str] = "jsb.status.changed"

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


def render_status(
    state: SubjectState, as_of: datetime, known_at: datetime | None = None
) -> SubjectStatus:
    """The status at `as_of` of a state that holds no event later than `as_of`."""
    records = tuple(state.designations.values())
    sanctions: list[MeasureInForce] = []
    incentives: list[MeasureInForce] = []
    for record in records:
        target = sanctions if record.data.polarity is Polarity.SANCTION else incentives
        target.extend(_in_force(record, as_of))
    sanctioned = bool(state.sanctions_in_force(as_of))
    return SubjectStatus(
        subject_id=state.subject_id or "",
        subject_kind=records[0].data.subject_kind if records else None,
        as_of=as_of,
        known_at=known_at,
        restricted=bool(sanctions),
        designations=tuple(_designation(state, r, as_of, sanctioned) for r in records),
        measures_in_force=tuple(sanctions),
        incentives_in_force=() if sanctioned else tuple(incentives),
        names=_names(records),
        identifiers=tuple(sorted({i for r in records for i in r.data.identifiers})),
    )


def _in_force(record: DesignationRecord, as_of: datetime) -> list[MeasureInForce]:
    until = record.data.effective_until
    return [
        MeasureInForce(
            measure=task.measure,
            department=task.department,
            designation_id=record.designation_id,
            list_type=record.data.list_type,
            polarity=record.data.polarity,
            until=task.until
            if task.until is not None and (until is None or task.until > until)
            else None,
        )
        for task in record.measures_in_force(as_of)
    ]


def _names(records: tuple[DesignationRecord, ...]) -> tuple[str, ...]:
    names: dict[str, None] = {}
    for record in records:
        for amendment in record.amendments:
            change = amendment.changes.get("subject_name")
            if change is not None and isinstance(change.old, str):
                names[change.old] = None
        names[record.data.subject_name] = None
    return tuple(names)


def _designation(
    state: SubjectState, record: DesignationRecord, as_of: datetime, sanctioned: bool
) -> DesignationStatus:
    data = record.data
    designation_state = record.state_at(as_of)
    in_force = designation_state is DesignationState.IN_FORCE
    today = china_date(as_of)
    objections = tuple(_objection(o, today) for o in record.objections)
    shown = record.open_objection or (record.objections[-1] if record.objections else None)
    end = record.end if record.end is not None and record.end.at <= as_of else None
    tasks = []
    for task in data.tasks:
        feedback = state.task_feedback((record.designation_id, task.measure, task.department))
        tasks.append(
            TaskStatus(
                measure=task.measure,
                department=task.department,
                state=feedback.state,
                deadline=task.deadline,
                overdue=in_force and feedback.state is TaskState.PENDING and today > task.deadline,
                mandatory=task.mandatory,
                until=task.until,
                interceptions=feedback.interceptions,
                last_intercepted_at=feedback.last_intercepted_at,
                feedback=tuple(
                    FeedbackView(event_id=f.event_id, kind=f.kind, at=f.at, note=f.note)
                    for f in feedback.history
                ),
            )
        )
    return DesignationStatus(
        designation_id=record.designation_id,
        list_type=data.list_type,
        polarity=data.polarity,
        level=data.level,
        state=designation_state,
        effective_from=data.effective_from,
        effective_until=data.effective_until,
        objection=None if shown is None else _objection(shown, today),
        tasks=tuple(tasks),
        subject_name=data.subject_name,
        reason=data.reason,
        legal_basis=data.legal_basis,
        decision_no=data.decision_no,
        decided_at=data.decided_at,
        designated_by=data.designated_by,
        expiry=data.expiry,
        published=data.published,
        issued_at=record.issued_at,
        ended_at=None if end is None else end.at,
        end_reason="" if end is None else end.reason,
        restore_reputation=None if end is None else end.restore_reputation,
        superseded_by=None if end is None else end.by_designation_id,
        suppressed=sanctioned and in_force and data.polarity is Polarity.INCENTIVE,
        lifted_measures=tuple(sorted(record.lifted)),
        parent_designation_id=data.parent_designation_id,
        related_role=data.related_role,
        related=data.related,
        objections=objections,
        amendments=tuple(
            AmendmentView(
                at=a.at, reason=a.reason, changes=dict(a.changes), objection_id=a.objection_id
            )
            for a in record.amendments
        ),
        repairs=tuple(
            RepairView(at=r.at, granted=r.granted, measures=r.measures, note=r.note)
            for r in record.repairs
        ),
        exit=ExitView(
            window_opens_on=record.exit.window_opens_on,
            applied_at=record.exit.applied_at,
            approved_at=record.exit.approved_at,
            exited_at=record.exit.exited_at,
        ),
        catalogue_version=data.catalogue_version,
    )


def _objection(objection: ObjectionRecord, today: date) -> ObjectionStatus:
    return ObjectionStatus(
        objection_id=objection.objection_id,
        status="open" if objection.outcome is None else objection.outcome.value,
        raised_by=objection.raised_by,
        department=objection.department,
        grounds=objection.grounds,
        filed_at=objection.filed_at,
        review_deadline=objection.review_deadline,
        overdue=objection.is_open and today > objection.review_deadline,
        suspends_measures=objection.suspends_measures,
        pauses_clock=objection.pauses_clock,
        resolved_at=objection.resolved_at,
        note=objection.note,
    )
