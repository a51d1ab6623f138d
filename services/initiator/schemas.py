"""The initiator's HTTP bodies (issue 5). Field names are a contract with the
departments' systems: add fields freely, never rename one."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.domain.event_base import (
    CaseFacts,
    LegalBasis,
    MeasureReach,
    ObjectionOutcome,
    RaisedBy,
    RelatedRole,
)
from shared.domain.vocabulary import Level
from shared.web.limits import MAX_BATCH_ITEMS


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SubjectIn(_Body):
    id: str = Field(min_length=1, max_length=64, description="USCC, resident id or passport")
    name: str = Field(min_length=1, max_length=200)
    other_ids: list[str] = Field(default_factory=list, description="Further identifiers")


class RelatedPersonIn(_Body):
    id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    role: RelatedRole
    facts: CaseFacts = Field(
        default_factory=CaseFacts,
        description="Facts about this person: an exit-restriction decision naming them, "
        "the date of a criminal penalty or dismissal",
    )


class DesignationCreate(_Body):
    subject: SubjectIn
    list_type: str = Field(min_length=1)
    level: Level | None = Field(
        None,
        description="Required on a graded list type; may be omitted on a fixed-level one "
        "(court, tax, serious-illegal, procurement, black lists: membership is the sanction)",
    )
    reason: str = Field(min_length=1, max_length=4000)
    legal_basis: list[LegalBasis] = Field(default_factory=list)
    decision_no: str = Field(min_length=1, max_length=200)
    decided_at: date
    effective_from: AwareDatetime | None = None
    effective_until: AwareDatetime | None = Field(
        None,
        description="Omitted: the list type's period. `null` given explicitly: no end "
        "(only where the regime allows an indefinite listing)",
    )
    measures: list[str] | None = Field(None, description="Default: the list type's bundle")
    related_persons: list[RelatedPersonIn] = Field(default_factory=list)
    facts: CaseFacts = Field(
        default_factory=CaseFacts,
        description="Facts of the case measures and periods depend on (`court_ground`, "
        "`exit_restriction_decision_no`, `unpaid_tax_without_security`, "
        "`penalty_or_dismissal_on`)",
    )

    @property
    def indefinite(self) -> bool:
        """`effective_until: null` given explicitly (distinct from omitted)."""
        return "effective_until" in self.model_fields_set and self.effective_until is None


class TaskOut(BaseModel):
    measure: str
    department: str
    mandatory: bool
    deadline: date | None = None


class RelatedOut(BaseModel):
    designation_id: UUID | None
    """None for a person named in the decision whom no measure reaches (not designated)."""
    subject_id: str
    role: str | None = None
    reached: list[MeasureReach] = Field(default_factory=list)
    """The measures that reached this person, each with its basis."""
    not_reached: list[MeasureReach] = Field(default_factory=list)
    """The listing's person measures that did not reach this person, and why."""


class ObjectionOut(BaseModel):
    objection_id: UUID
    raised_by: str
    department: str | None
    grounds: str
    filed_at: AwareDatetime
    review_deadline: date
    suspends_measures: bool
    pauses_clock: bool
    outcome: str | None
    resolved_at: AwareDatetime | None
    note: str


class AmendmentOut(BaseModel):
    at: AwareDatetime
    reason: str
    changes: dict[str, dict[str, Any]]
    objection_id: UUID | None = None


class DesignationPublic(BaseModel):
    designation_id: UUID
    subject_id: str
    list_type: str
    level: Level
    state: str
    effective_from: AwareDatetime
    effective_until: AwareDatetime | None
    tasks: list[TaskOut]
    related_designations: list[RelatedOut]
    catalogue_version: str
    designated_by: str
    parent_designation_id: UUID | None = None
    objection: ObjectionOut | None = None
    """The open objection (异议), if any."""
    objections: list[ObjectionOut] = Field(default_factory=list)
    amendments: list[AmendmentOut] = Field(default_factory=list)
    lifted_measures: list[str] = Field(default_factory=list)
    facts: CaseFacts = Field(default_factory=CaseFacts)
    joint_sanction: bool = True
    """A joint-sanction target: the cross-check removes the subject's incentives."""
    record_only: bool = False
    """A record-only or warning tier: a record, not a sanction."""
    related_not_reached: list[RelatedOut] = Field(default_factory=list)
    """Related persons named in the decision whom no measure reaches: not designated."""
    warnings: list[str] = Field(default_factory=list)
    """E.g. a working-day deadline in a year whose holiday arrangement is not loaded."""


class ObjectionCreate(_Body):
    raised_by: RaisedBy
    department: str | None = None
    grounds: str = Field(min_length=1, max_length=4000)


class ObjectionPublic(BaseModel):
    objection_id: UUID
    designation_id: UUID
    review_deadline: date
    suspends_measures: bool
    pauses_clock: bool


class DesignationChangesIn(_Body):
    subject_name: str | None = None
    level: Level | None = None
    reason: str | None = None
    legal_basis: list[LegalBasis] | None = None
    decision_no: str | None = None
    effective_from: AwareDatetime | None = None
    effective_until: AwareDatetime | None = None
    measures: list[str] | None = None


class AmendmentCreate(_Body):
    changes: DesignationChangesIn
    reason: str = Field(min_length=1, max_length=4000)


class RevocationCreate(_Body):
    reason: str = Field(min_length=1, max_length=4000)
    restore_reputation: bool = True


class ResolutionCreate(_Body):
    outcome: ObjectionOutcome
    note: str = ""
    amendment: DesignationChangesIn | None = None


class RepairCreate(_Body):
    measures: list[str] | None = None
    note: str = ""


class ExitCreate(_Body):
    note: str = ""


class BatchCreate(_Body):
    designations: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=MAX_BATCH_ITEMS,
        description=f"Up to {MAX_BATCH_ITEMS:,} bodies of `POST /v1/designations`, "
        "each decided on its own",
    )


class BatchItemResult(BaseModel):
    """An accepted item (`status` 201, `designation_id`, ...) or a refused one: an
    RFC 9457 problem (`type`, `title`, `status`, `detail`, `errors`)."""

    model_config = ConfigDict(extra="allow")

    index: int
    status: int


class BatchResult(BaseModel):
    accepted: int
    rejected: int
    results: list[BatchItemResult]
