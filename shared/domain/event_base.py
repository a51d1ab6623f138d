"""What every domain event shares: the base model and the value objects in payloads.

Field names and enum values here are a contract with other departments' systems
(published as JSON Schema in docs/schemas/): add fields in a new version, never
rename one.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import ClassVar
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, JsonValue

from shared.domain.vocabulary import CaseFact


class Family(StrEnum):
    """Which stream an event travels on; each family is one Kafka topic."""

    LIFECYCLE = "lifecycle"  # jsb.designations.v1, written by the initiator
    FEEDBACK = "feedback"  # jsb.feedback.v1, written by the responders


class DomainEvent(BaseModel):
    """The `data` of an event. Subclasses set TYPE, VERSION and FAMILY."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    TYPE: ClassVar[str]
    VERSION: ClassVar[int] = 1
    FAMILY: ClassVar[Family]

    designation_id: UUID
    """Every event concerns exactly one designation."""


class RelatedRole(StrEnum):
    """落实到人: the persons a designation of an organisation also reaches."""

    LEGAL_REPRESENTATIVE = "legal_representative"  # 法定代表人
    PRINCIPAL = "principal"  # 主要负责人
    DIRECTOR = "director"  # 董事
    SUPERVISOR = "supervisor"  # 监事
    SENIOR_MANAGER = "senior_manager"  # 高级管理人员
    ACTUAL_CONTROLLER = "actual_controller"  # 实际控制人
    RESPONSIBLE_PERSON = "responsible_person"  # 其他直接责任人


class RaisedBy(StrEnum):
    SUBJECT = "subject"  # the listed subject objects
    DEPARTMENT = "department"  # an implementing department finds the data wrong


class ObjectionOutcome(StrEnum):
    REJECTED = "rejected"  # listing stands; in force again
    UPHELD = "upheld"  # listing was wrong: revoked
    PARTIALLY_UPHELD = "partially_upheld"  # listing corrected: amended


class ReminderStage(StrEnum):
    NEARING = "nearing"
    PASSED = "passed"


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LegalBasis(_Value):
    title: str = Field(min_length=1)
    article: str = ""
    url: str | None = None


class TaskSpec(_Value):
    """One measure for one implementing department (惩戒事项逐一对应)."""

    measure: str
    department: str
    mandatory: bool
    deadline: date
    """Feedback deadline (China date, working days after the push)."""
    until: AwareDatetime | None = None
    """End of the measure's own duration (a statutory ban); it outlives the list."""


class CaseFacts(_Value):
    """Facts of the case that measures and periods depend on (issue 9, item 2).

    Carried by the designation (for its subject) and by each related person (for that
    person); `decide` plans a measure that names a fact only when the fact holds."""

    court_ground: int | None = Field(None, ge=1, le=6)
    """Which item of 法释〔2017〕7号 第一条 the court lists on; item 1 (有履行能力而拒不
    履行) has no term (第二条)."""
    exit_restriction_decision_no: str | None = Field(None, min_length=1, max_length=200)
    """The court's separate decision restricting exit (限制出境决定书), if one was made."""
    unpaid_tax_without_security: bool = False
    """Tax and late fees unpaid and no security given (税收征收管理法 第四十四条)."""
    penalty_or_dismissal_on: date | None = None
    """Date of a criminal penalty's completion or of a dismissal (安全生产法 第九十四条)."""

    def holds(self, fact: CaseFact) -> bool:
        """Whether the fact a measure needs holds."""
        return {
            CaseFact.EXIT_RESTRICTION_DECIDED: self.exit_restriction_decision_no is not None,
            CaseFact.UNPAID_TAX_WITHOUT_SECURITY: self.unpaid_tax_without_security,
            CaseFact.PENALTY_OR_DISMISSAL: self.penalty_or_dismissal_on is not None,
        }[fact]


class MeasureReach(_Value):
    """Why a measure reached a related person, or why it did not."""

    measure: str
    why: str


class RelatedDesignation(_Value):
    """A linked designation of a related person, issued together with its parent."""

    designation_id: UUID
    subject_id: str
    role: RelatedRole
    name: str
    reached: tuple[MeasureReach, ...] = ()
    """The measures that reached this person, each with its basis (role scope, fact)."""
    not_reached: tuple[MeasureReach, ...] = ()
    """Person measures of the listing that did not reach this person, and why."""


class FieldChange(_Value):
    """One corrected field: both versions are kept and shown (更正)."""

    old: JsonValue
    new: JsonValue
