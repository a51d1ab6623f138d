"""Lifecycle events of a designation (topic jsb.designations.v1, written by the initiator).

Past tense, frozen, self-contained: an event carries every value the fold needs
(expiry mode, objection regime, task deadlines), so a replay never depends on the
catalogue as it is today — the catalogue changes when laws change (DOMAIN.md §4).
"""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar, cast
from uuid import UUID

from pydantic import AwareDatetime, Field, TypeAdapter, ValidationError, field_validator

from shared.domain.event_base import (
    CaseFacts,
    DomainEvent,
    Family,
    FieldChange,
    LegalBasis,
    ObjectionOutcome,
    RaisedBy,
    RelatedDesignation,
    RelatedRole,
    ReminderStage,
    TaskSpec,
)
from shared.domain.vocabulary import ExpiryMode, Level, Polarity, SubjectKind


class LifecycleEvent(DomainEvent):
    FAMILY: ClassVar[Family] = Family.LIFECYCLE


class DesignationIssued(LifecycleEvent):
    """认定/列入: a subject goes on a list, with its measures fanned out as tasks."""

    TYPE: ClassVar[str] = "jsb.designation.issued"
    VERSION: ClassVar[int] = 2

    subject_id: str = Field(min_length=1)
    subject_kind: SubjectKind
    subject_name: str
    identifiers: tuple[str, ...] = ()
    """Every known identifier of the subject (the canonical one included)."""
    list_type: str
    polarity: Polarity
    level: Level
    expiry: ExpiryMode
    published: bool = True
    reason: str
    legal_basis: tuple[LegalBasis, ...] = ()
    decision_no: str
    decided_at: date
    """Date of the decision, in China time."""
    designated_by: str
    effective_from: AwareDatetime
    effective_until: AwareDatetime | None
    """None: open-ended (in force until lifted)."""
    tasks: tuple[TaskSpec, ...] = ()
    parent_designation_id: UUID | None = None
    related_role: RelatedRole | None = None
    related: tuple[RelatedDesignation, ...] = ()
    """Designations of related persons issued with this one (落实到人)."""
    catalogue_version: str
    facts: CaseFacts = CaseFacts()
    """Facts of the case the measures and the period were decided on (version 2)."""
    joint_sanction: bool = True
    """A joint-sanction target: the cross-check (交叉比对) removes the subject's
    incentives while it is in force. False for warning tiers (version 2)."""
    record_only: bool = False
    """A record-only or warning tier: shown as a record, not as a sanction (version 2)."""
    related_not_reached: tuple[RelatedDesignation, ...] = ()
    """Related persons named in the decision whom no measure reaches (their role is out
    of every measure's scope, or a fact is missing): not designated, each with why
    (version 2)."""


AMENDABLE_FIELDS = (
    "subject_name",
    "level",
    "reason",
    "legal_basis",
    "decision_no",
    "effective_from",
    "effective_until",
    "tasks",
)
"""Fields of DesignationIssued a correction may change (`tasks` when measures change)."""

_AMENDABLE: dict[str, TypeAdapter[Any]] = {
    name: TypeAdapter(cast(Any, DesignationIssued.model_fields[name].annotation))
    for name in AMENDABLE_FIELDS
}


def amended_value(name: str, value: Any) -> Any:
    """The typed value of an amended field, from its JSON form in `FieldChange.new`."""
    return _AMENDABLE[name].validate_python(value)


def amended_json(name: str, value: Any) -> Any:
    """The JSON form of a typed value of an amendable field (for `FieldChange`)."""
    return _AMENDABLE[name].dump_python(value, mode="json")


class DesignationAmended(LifecycleEvent):
    """更正: corrected fields; old and new values are both kept."""

    TYPE: ClassVar[str] = "jsb.designation.amended"

    changes: dict[str, FieldChange] = Field(min_length=1)
    """Field of DesignationIssued (one of AMENDABLE_FIELDS) → its old and new value."""
    reason: str
    objection_id: UUID | None = None
    """Set when the correction answers a partially upheld objection."""

    @field_validator("changes")
    @classmethod
    def _amendable(cls, changes: dict[str, FieldChange]) -> dict[str, FieldChange]:
        for name, change in changes.items():
            if name not in _AMENDABLE:
                raise ValueError(f"{name!r} is not amendable: one of {', '.join(AMENDABLE_FIELDS)}")
            try:
                amended_value(name, change.new)
            except ValidationError as exc:
                raise ValueError(f"{name}: {exc.errors()[0]['msg']}") from None
        return changes


class DesignationRevoked(LifecycleEvent):
    """撤销: the designation was wrong (version 2: `restore_credit` became
    `restore_reputation`; version 1 is upcast on read)."""

    TYPE: ClassVar[str] = "jsb.designation.revoked"
    VERSION: ClassVar[int] = 2

    reason: str
    restore_reputation: bool
    objection_id: UUID | None = None


class DesignationSuperseded(LifecycleEvent):
    """A key-watch listing escalated to another list (e.g. the black list)."""

    TYPE: ClassVar[str] = "jsb.designation.superseded"

    by_designation_id: UUID
    reason: str = ""


class DesignationExpired(LifecycleEvent):
    """The period is over (automatic regimes). The fold already derives expiry from the
    clock; this event records that the initiator's timer saw it."""

    TYPE: ClassVar[str] = "jsb.designation.expired"


class ObjectionFiled(LifecycleEvent):
    """异议: the record is flagged; the regime's rule is copied in at filing."""

    TYPE: ClassVar[str] = "jsb.objection.filed"

    objection_id: UUID
    raised_by: RaisedBy
    department: str | None = None
    """The raising department when `raised_by` is `department`."""
    grounds: str
    review_deadline: date
    suspends_measures: bool
    pauses_clock: bool


class ObjectionResolved(LifecycleEvent):
    """The review's outcome. An upheld objection is followed by a revocation, a partially
    upheld one by an amendment; a rejection on a clock-pausing regime moves the end."""

    TYPE: ClassVar[str] = "jsb.objection.resolved"

    objection_id: UUID
    outcome: ObjectionOutcome
    note: str = ""
    new_effective_until: AwareDatetime | None = None


class ObjectionReminder(LifecycleEvent):
    """The review deadline is near or passed (for the notifier; no status effect)."""

    TYPE: ClassVar[str] = "jsb.objection.reminder"

    objection_id: UUID
    review_deadline: date
    stage: ReminderStage


class RepairGranted(LifecycleEvent):
    """信用修复: all measures lifted (`measures` None) or the listed ones (减轻)."""

    TYPE: ClassVar[str] = "jsb.repair.granted"

    measures: tuple[str, ...] | None = None
    note: str = ""


class RepairRefused(LifecycleEvent):
    TYPE: ClassVar[str] = "jsb.repair.refused"

    note: str = ""


class ExitApplied(LifecycleEvent):
    """The subject applied to leave the list (regimes with `expiry: application`)."""

    TYPE: ClassVar[str] = "jsb.exit.applied"

    note: str = ""


class ExitApproved(LifecycleEvent):
    """Exit approved; the listing ends at `exited_at` (its period's end, or at once
    when approved after it)."""

    TYPE: ClassVar[str] = "jsb.exit.approved"

    exited_at: AwareDatetime
    note: str = ""


class ExitWindowOpened(LifecycleEvent):
    """The exit-application window opened (for the notifier; no status effect)."""

    TYPE: ClassVar[str] = "jsb.exit.window_opened"

    opens_on: date
    effective_until: AwareDatetime


LIFECYCLE_EVENTS: tuple[type[LifecycleEvent], ...] = (
    DesignationIssued,
    DesignationAmended,
    DesignationRevoked,
    DesignationSuperseded,
    DesignationExpired,
    ObjectionFiled,
    ObjectionResolved,
    ObjectionReminder,
    RepairGranted,
    RepairRefused,
    ExitApplied,
    ExitApproved,
    ExitWindowOpened,
)
