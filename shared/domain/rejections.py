"""Why a command is refused: stable codes, one table (issue 3, item 4).

The codes are a contract (the initiator returns them in RFC 9457 `errors[].code`):
never rename one. How each is answered over HTTP is the web layer's table
(shared/web/statuses.py), not the domain's.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class RejectionCode(StrEnum):
    # -- content of the command (422) --
    UNKNOWN_LIST_TYPE = "unknown_list_type"  # list type not in the catalogue
    MEASURE_NOT_IN_CATALOGUE = "measure_not_in_catalogue"  # 不得对目录清单之外…
    MEASURE_ABOVE_LEVEL = "measure_above_level"  # 防止惩戒过度
    MEASURE_NOT_APPLICABLE_TO_SUBJECT = "measure_not_applicable_to_subject"  # org vs person
    MEASURE_POLARITY_MISMATCH = "measure_polarity_mismatch"  # incentive on a sanction list…
    MEASURE_NOT_IN_DESIGNATION = "measure_not_in_designation"  # repair of a measure not applied
    INVALID_IDENTIFIER = "invalid_identifier"  # check character, birth date, … (reason kept)
    INVALID_RELATED_PERSON = "invalid_related_person"  # not a person, duplicate, org-only
    INVALID_PERIOD = "invalid_period"  # end before start, decision in the future
    NOTHING_TO_AMEND = "nothing_to_amend"  # a correction that changes nothing
    AMENDMENT_REQUIRED = "amendment_required"  # partially upheld without the correction
    REPAIR_NOT_ALLOWED = "repair_not_allowed"  # the regime has no credit repair
    EXIT_NOT_APPLICABLE = "exit_not_applicable"  # exit is for `expiry: application` regimes
    EXPIRY_NOT_AUTOMATIC = "expiry_not_automatic"  # expiry timer on an application regime
    LEVEL_NOT_IN_SCHEME = "level_not_in_scheme"  # a level the list type does not use
    NO_MEASURES = "no_measures"  # zero tasks outside a record-only tier
    FACT_REQUIRED = "fact_required"  # a fact of the case the list or a measure needs
    SUBJECT_IS_MINOR = "subject_is_minor"  # 法释〔2017〕7号 第四条: minors are not listed
    # -- who acts (403) --
    DEPARTMENT_NOT_ALLOWED = "department_not_allowed"  # may not designate / object here
    NOT_OWN_DESIGNATION = "not_own_designation"  # another department's designation
    # -- what is referred to (404) --
    DESIGNATION_NOT_FOUND = "designation_not_found"
    OBJECTION_NOT_FOUND = "objection_not_found"
    # -- the state it is in (409) --
    DESIGNATION_EXISTS = "designation_exists"  # the new id is taken
    DESIGNATION_CLOSED = "designation_closed"  # revoked or superseded: no more changes
    NOT_IN_FORCE = "not_in_force"  # objection, repair, exit on a listing not in force
    INCENTIVE_WHILE_SANCTIONED = "incentive_while_sanctioned"  # 交叉比对
    OBJECTION_ALREADY_OPEN = "objection_already_open"
    OBJECTION_NOT_OPEN = "objection_not_open"  # already resolved
    REPAIR_IN_LOCKOUT = "repair_in_lockout"  # within the regime's lock-out (or never)
    EXIT_OUTSIDE_WINDOW = "exit_outside_window"  # before the exit window opens
    EXIT_ALREADY_APPLIED = "exit_already_applied"
    EXIT_NOT_APPLIED = "exit_not_applied"  # approval without an application
    NOT_YET_EXPIRED = "not_yet_expired"  # period not over, or its clock paused


class Rejection(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    code: RejectionCode
    field: str
    """Where in the command (`measures[2]`, `subject.id`, `department`)."""
    message: str


class Rejected(BaseModel):
    """A refused command: every problem found, not just the first. Nothing is emitted."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rejections: tuple[Rejection, ...] = Field(min_length=1)

    @property
    def codes(self) -> tuple[RejectionCode, ...]:
        return tuple(r.code for r in self.rejections)


class Problems:
    """Collects rejections while a command is checked."""

    def __init__(self) -> None:
        self._found: list[Rejection] = []

    def add(self, code: RejectionCode, field: str, message: str) -> None:
        self._found.append(Rejection(code=code, field=field, message=message))

    def __bool__(self) -> bool:
        return bool(self._found)

    def rejected(self) -> Rejected:
        return Rejected(rejections=tuple(self._found))
