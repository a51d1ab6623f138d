"""The responder's HTTP bodies. Field names are a contract with the departments'
systems: add fields freely, never rename one."""

from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.domain.event_base import LegalBasis


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CheckCreate(_Body):
    subject_id: str = Field(
        min_length=1,
        max_length=64,
        description="Any identifier of the subject: USCC, old organisation code or "
        "registration number, resident identity number, passport",
    )
    measure: str | None = Field(None, min_length=1, max_length=200)
    action: str | None = Field(
        None, min_length=1, max_length=200, description="A business action: book_flight, ..."
    )


class Reason(BaseModel):
    designation_id: UUID
    list_type: str
    measure: str


class CheckPublic(BaseModel):
    decision: Literal["block", "allow"]
    reasons: list[Reason]
    check_id: UUID


Outcome = Literal["executed", "not_applicable", "failed"]


class FeedbackCreate(_Body):
    outcome: Outcome
    note: str = Field("", max_length=4000)


class TaskPublic(BaseModel):
    task_id: UUID
    department: str
    designation_id: UUID
    measure: str
    subject_id: str
    """Masked when it is a personal identity number and the caller may not see it."""
    subject_name: str
    list_type: str
    mode: Literal["auto", "manual"]
    state: str
    mandatory: bool
    deadline: date
    note: str
    last_event_type: str
    """The lifecycle event this department last applied to the designation (or `clock`)."""
    created_at: AwareDatetime
    updated_at: AwareDatetime
    answered_at: AwareDatetime | None


class TaskList(BaseModel):
    tasks: list[TaskPublic]


class Restriction(BaseModel):
    designation_id: UUID
    list_type: str
    polarity: str
    measure: str
    measure_name: str
    measure_legal_basis: str
    """The catalogue's legal basis of the measure."""
    legal_basis: list[LegalBasis]
    """The designation's legal basis."""
    decision_no: str
    designated_by: str
    level: str
    effective_from: AwareDatetime
    until: AwareDatetime | None
    """When it stops by itself: the measure's own duration, else the designation's
    period (None: until lifted)."""
    state: str
    """`in_force`, or `suspended` while an objection is reviewed (暂不执行)."""
    objection_open: bool


class RestrictionsPublic(BaseModel):
    subject_id: str
    department: str
    as_of: AwareDatetime
    restricted: bool
    """A sanction measure of this department is in force."""
    restrictions: list[Restriction]
    """What this department enforces now (sanctions, then incentives)."""
    suspended: list[Restriction]
    """Measures of this department not executed while an objection is reviewed."""
