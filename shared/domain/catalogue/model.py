"""The shape of the measures catalogue (措施清单) and of the list types (regimes).

The values live as data in `catalogue.yaml`; these models only say what a valid
catalogue looks like. Field names are the `GET /v1/catalogue` contract
(issue 3): add fields freely, never rename one.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from shared.domain.vocabulary import (
    ExpiryMode,
    Level,
    MeasureKind,
    PeriodFrom,
    Polarity,
    SubjectKind,
)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Department(_Frozen):
    code: str
    name_zh: str
    name_en: str


class Measure(_Frozen):
    code: str
    name_zh: str
    name_en: str
    polarity: Polarity
    kind: MeasureKind
    mandatory: bool
    departments: tuple[str, ...]
    legal_basis: str
    min_level: Level
    applies_to: tuple[SubjectKind, ...]
    duration_days: int | None = None
    """A duration of the measure's own (a statutory ban): it outlives the list."""
    actions: tuple[str, ...] = ()
    """Business actions this measure governs (`book_flight`, `bid_public_tender`, ...)."""
    source: str = ""
    """Where the measure comes from (document and item), for auditors."""


class ObjectionRule(_Frozen):
    review_working_days: int
    suspends_measures: bool
    pauses_clock: bool
    source: str = ""


class RepairLockout(_Frozen):
    """No repair of a listing at `level` within `days` of publication.

    `nth` counts the subject's listings on this list type (1 = first listing,
    2 = second and later); `days` None means never repairable.
    """

    level: Level
    nth: int = 1
    days: int | None


class RepairRule(_Frozen):
    allowed: bool
    decision_working_days: int | None = None
    lockouts: tuple[RepairLockout, ...] = ()
    source: str = ""


class ListType(_Frozen):
    code: str
    name_zh: str
    name_en: str
    polarity: Polarity
    designating_departments: tuple[str, ...]
    period_days: int | None
    """None: no fixed period (in force until lifted)."""
    period_from: PeriodFrom
    expiry: ExpiryMode
    exit_window_working_days: int | None = None
    """For `expiry: application`: the window before the end in which exit may be applied for."""
    objection: ObjectionRule
    repair: RepairRule
    publication_working_days: int
    feedback_working_days: int
    published: bool = True
    """Whether entries appear on the publicity list (公示)."""
    bundles: dict[Level, tuple[str, ...]] = Field(default_factory=dict)
    source: str = ""


class Catalogue(_Frozen):
    version: str
    levels: tuple[Level, ...]
    departments: tuple[Department, ...]
    measures: tuple[Measure, ...]
    list_types: tuple[ListType, ...]
