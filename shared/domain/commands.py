"""Commands: what a department asks the domain to decide (imperative, frozen).

Each carries the acting `department` (from the caller's token) and `at`, the instant
the command is decided: the domain never reads a clock. New ids (designation,
objection) come in the command, so `decide` stays pure and a retried command decides
the same ids.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid4

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.domain.event_base import (
    CaseFacts,
    LegalBasis,
    ObjectionOutcome,
    RaisedBy,
    RelatedRole,
    ReminderStage,
)
from shared.domain.vocabulary import Level


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Command(_Frozen):
    department: str = Field(min_length=1)
    """The acting department (the token's)."""
    at: AwareDatetime
    """When the command is decided; becomes the time of the events it yields."""


class SubjectRef(_Frozen):
    id: str
    """Any identifier of the subject (USCC, resident id, ...); checked by `decide`."""
    name: str
    other_ids: tuple[str, ...] = ()
    """Further identifiers of the same subject (passport, old organisation code)."""


class RelatedPerson(_Frozen):
    id: str
    name: str
    role: RelatedRole
    facts: CaseFacts = CaseFacts()
    """Facts about this person (an exit decision naming them, a penalty or dismissal)."""


class IssueDesignation(Command):
    designation_id: UUID = Field(default_factory=uuid4)
    subject: SubjectRef
    list_type: str
    level: Level | None = None
    """Required on a graded list type; on a fixed-level one it may be omitted."""
    reason: str
    legal_basis: tuple[LegalBasis, ...] = ()
    decision_no: str
    decided_at: date
    effective_from: AwareDatetime | None = None
    """Default: `at` (the listing takes effect when it is pushed)."""
    effective_until: AwareDatetime | None = None
    """Default: the list type's period from decision or publication; None if no period."""
    indefinite: bool = False
    """The decision states no end (`effective_until: null` given explicitly): allowed
    where the regime allows an indefinite listing, refused elsewhere."""
    facts: CaseFacts = CaseFacts()
    measures: tuple[str, ...] | None = None
    """Default (None): the list type's bundle for the level."""
    related_persons: tuple[RelatedPerson, ...] = ()


class DesignationChanges(_Frozen):
    """Fields a correction may change; None leaves a field as it is."""

    subject_name: str | None = None
    level: Level | None = None
    reason: str | None = None
    legal_basis: tuple[LegalBasis, ...] | None = None
    decision_no: str | None = None
    effective_from: AwareDatetime | None = None
    effective_until: AwareDatetime | None = None
    measures: tuple[str, ...] | None = None


class AmendDesignation(Command):
    designation_id: UUID
    changes: DesignationChanges
    reason: str


class RevokeDesignation(Command):
    designation_id: UUID
    reason: str
    restore_reputation: bool = True


class FileObjection(Command):
    """`department` is the raising department when `raised_by` is `department`, else
    the designating department that records the subject's objection."""

    designation_id: UUID
    objection_id: UUID = Field(default_factory=uuid4)
    raised_by: RaisedBy
    grounds: str


class ResolveObjection(Command):
    objection_id: UUID
    outcome: ObjectionOutcome
    note: str = ""
    amendment: DesignationChanges | None = None
    """Required when partially upheld: the correction to make."""


class RemindObjection(Command):
    """Timer: the review deadline is near or passed."""

    objection_id: UUID
    stage: ReminderStage


class GrantRepair(Command):
    designation_id: UUID
    measures: tuple[str, ...] | None = None
    """None: all measures (the listing is repaired); else only these are lifted."""
    note: str = ""


class RefuseRepair(Command):
    designation_id: UUID
    note: str = ""


class ApplyExit(Command):
    designation_id: UUID
    note: str = ""


class ApproveExit(Command):
    designation_id: UUID
    note: str = ""


class OpenExitWindow(Command):
    """Timer: the exit-application window of an application regime opens."""

    designation_id: UUID


class ExpireDesignation(Command):
    """Timer: the period of an automatic regime is over."""

    designation_id: UUID


class SupersedeDesignation(Command):
    designation_id: UUID
    by_designation_id: UUID
    reason: str = ""


AnyCommand = (
    IssueDesignation
    | AmendDesignation
    | RevokeDesignation
    | FileObjection
    | ResolveObjection
    | RemindObjection
    | GrantRepair
    | RefuseRepair
    | ApplyExit
    | ApproveExit
    | OpenExitWindow
    | ExpireDesignation
    | SupersedeDesignation
)
