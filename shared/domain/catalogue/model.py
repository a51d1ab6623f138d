"""The shape of the measures catalogue (措施清单) and of the list types (regimes).

The values live as data in `catalogue.yaml`; these models only say what a valid
catalogue looks like. Field names are the `GET /v1/catalogue` contract
(issue 3): add fields freely, never rename one.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.domain.event_base import RelatedRole
from shared.domain.vocabulary import (
    LEVELS,
    CaseFact,
    ExpiryMode,
    Level,
    LevelSchemeKind,
    MeasureKind,
    PeriodFrom,
    Polarity,
    SpanUnit,
    SubjectKind,
)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Department(_Frozen):
    code: str
    name_zh: str
    name_en: str


class Span(_Frozen):
    """A period or deadline as its document states it: an amount and its unit."""

    amount: int
    unit: SpanUnit

    def nominal_days(self) -> int:
        """The length in days, for display (`period_days`, `duration_days`): a year
        counts 365.25 days, a month 30.4375, a working day 1 (rounded)."""
        per_unit = {SpanUnit.YEARS: 365.25, SpanUnit.MONTHS: 30.4375}
        return round(self.amount * per_unit.get(self.unit, 1))


class RoleScope(_Frozen):
    """Which related persons (落实到人) a person measure reaches, and on what basis."""

    roles: tuple[RelatedRole, ...]
    source: str


def _span_from_days(data: Any, span: str, days: str) -> Any:
    """Old data states a length in days only; new data states a `Span` (and the
    nominal days are derived from it). Both given: the span wins, the days must agree
    (checked by the loader)."""
    if not isinstance(data, dict):
        return data
    data = dict(data)
    if data.get(span) is None and data.get(days) is not None:
        data[span] = {"amount": data[days], "unit": SpanUnit.DAYS}
    elif data.get(span) is not None and data.get(days) is None:
        given = data[span]
        data[days] = (given if isinstance(given, Span) else Span(**given)).nominal_days()
    return data


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
    """A duration of the measure's own (a statutory ban): it outlives the list.
    Nominal days of `duration` when that is in months or years."""
    duration: Span | None = None
    """The same duration in the unit its law states (authoritative)."""
    actions: tuple[str, ...] = ()
    """Business actions this measure governs (`book_flight`, `bid_public_tender`, ...)."""
    source: str = ""
    """Where the measure comes from (document and item), for auditors."""
    reaches: RoleScope | None = None
    """For a person measure: the related roles of a listed organisation it reaches.
    None (or no roles): it reaches only a person who is listed in their own right."""
    requires_fact: CaseFact | None = None
    """A fact of the case without which the measure is not planned (issue 9, item 2)."""
    counts_from_fact: bool = False
    """The measure's own duration counts from the date of `requires_fact` (a ban that
    runs from a penalty or a dismissal), not from the listing."""

    @model_validator(mode="before")
    @classmethod
    def _duration_span(cls, data: Any) -> Any:
        return _span_from_days(data, "duration", "duration_days")


class ObjectionRule(_Frozen):
    review_working_days: int
    """The review deadline's amount, in `review_unit` (the name is historical)."""
    review_unit: SpanUnit = SpanUnit.WORKING_DAYS
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
    never_basis: str = ""
    """For `days: null`: the rule of the regime that makes the listing unrepairable
    (国办发〔2020〕49号 allows that only where law or central policy says so)."""


class RepairRule(_Frozen):
    allowed: bool
    decision_working_days: int | None = None
    """The decision deadline's amount, in `decision_unit` (the name is historical)."""
    decision_unit: SpanUnit = SpanUnit.WORKING_DAYS
    lockouts: tuple[RepairLockout, ...] = ()
    source: str = ""


class LevelScheme(_Frozen):
    """How a list type uses levels (DOMAIN.md §3; issue 9, item 1).

    `graded`: the designation names one of `levels`, and no measure above it is
    applied. `fixed`: the list has no levels; `levels` holds the one level the list
    is recorded at, and a designation may omit `level`."""

    kind: LevelSchemeKind
    levels: tuple[Level, ...]
    record_only: tuple[Level, ...] = ()
    """Tiers that are recorded (or warned) only: a designation there may carry no
    measure, and is shown as a record, not as a sanction."""
    joint_sanction_from: Level | None = None
    """Listings at this level or graver are joint-sanction targets: the cross-check
    (交叉比对) removes the subject's incentives. None: never (incentive lists)."""
    publish_from: Level | None = None
    """Publication (公示) starts at this level; None: every level of a published list."""
    source: str = ""


def _default_scheme(data: Any) -> Any:
    """A list type without a scheme (catalogues before issue 9): graded over the levels
    it has bundles for, every sanction level a joint-sanction target, as before."""
    if not isinstance(data, dict) or data.get("level_scheme") is not None:
        return data
    bundles = data.get("bundles") or {}
    levels = tuple(level for level in LEVELS if level in bundles or level.value in bundles)
    sanction = str(data.get("polarity")) == Polarity.SANCTION.value
    return {
        **data,
        "level_scheme": {
            "kind": LevelSchemeKind.GRADED,
            "levels": levels,
            "joint_sanction_from": levels[0] if sanction and levels else None,
            "source": "default: graded over the bundles' levels",
        },
    }


class ListType(_Frozen):
    code: str
    name_zh: str
    name_en: str
    polarity: Polarity
    designating_departments: tuple[str, ...]
    period_days: int | None = None
    """None: no fixed period (in force until lifted). Nominal days of `period` when
    that is in months or years."""
    period: Span | None = None
    """The default period in the unit its document states (authoritative)."""
    max_period: Span | None = None
    """The longest period a decision may set (None: no limit stated)."""
    indefinite_allowed: bool = False
    """Whether a decision may state no end (`effective_until: null`) though the list has
    a default period."""
    no_period_court_grounds: tuple[int, ...] = ()
    """Items of 法释〔2017〕7号 第一条 whose listing has no term (ends on performance)."""
    required_facts: tuple[str, ...] = ()
    """Facts every designation on this list must state (`court_ground`)."""
    minimum_age: int | None = None
    """A person younger than this (by the birth date of the identity number) is not
    listed (法释〔2017〕7号 第四条)."""
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
    level_scheme: LevelScheme
    conflicts: str = ""
    """Where two documents disagree on this list: both cited, and which one is followed."""
    source: str = ""

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any) -> Any:
        return _default_scheme(_span_from_days(data, "period", "period_days"))

    @property
    def term(self) -> Span | None:
        """The default period in its document's unit; None: no fixed period.
        (`period` is filled from `period_days` by the model when only that is given.)"""
        return None if self.period_days is None else self.period

    def is_joint_sanction(self, level: Level) -> bool:
        floor = self.level_scheme.joint_sanction_from
        return floor is not None and level.at_least(floor)

    def is_published(self, level: Level) -> bool:
        floor = self.level_scheme.publish_from
        return self.published and (floor is None or level.at_least(floor))


class Catalogue(_Frozen):
    version: str
    levels: tuple[Level, ...]
    departments: tuple[Department, ...]
    measures: tuple[Measure, ...]
    list_types: tuple[ListType, ...]
    role_scopes: dict[str, RoleScope] = Field(default_factory=dict)
    """Named role scopes the measures refer to (shown for integrators)."""
