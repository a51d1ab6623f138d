"""Which measures a designation may carry, and their tasks (措施清单, 防止惩戒过度)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from shared.domain.calendar import add_working_days
from shared.domain.catalogue.model import ListType, Measure
from shared.domain.decide_support import CatalogueLookup, lookup
from shared.domain.event_base import TaskSpec
from shared.domain.rejections import Problems, RejectionCode
from shared.domain.vocabulary import Level, SubjectKind


@dataclass(frozen=True, slots=True)
class MeasurePlan:
    """The checked measures: the subject's own, and those reaching related persons."""

    subject: tuple[Measure, ...]
    persons: tuple[Measure, ...]


def plan_measures(
    codes: tuple[str, ...] | None,
    list_type: ListType,
    level: Level,
    subject_kind: SubjectKind,
    catalogue: CatalogueLookup,
    problems: Problems,
    *,
    reaches_persons: bool = False,
    field: str = "measures",
    indexed: bool | None = None,
) -> MeasurePlan:
    """Check `codes` (None: the list type's bundle for the level) and split them.

    With related persons, a measure for persons only reaches them and not the
    organisation. Explicit measures that reach nobody are refused; bundle measures for
    the other kind of subject are simply not applied. Problems name `field[i]` when
    `indexed` (default: when the codes are explicit), else `field`."""
    explicit = codes is not None
    indexed = explicit if indexed is None else indexed
    chosen = dict.fromkeys(codes if codes is not None else list_type.bundles.get(level, ()))
    own: list[Measure] = []
    persons: list[Measure] = []
    for index, code in enumerate(chosen):
        where = f"{field}[{index}]" if indexed else field
        measure = lookup(catalogue.measure, code)
        if measure is None:
            problems.add(
                RejectionCode.MEASURE_NOT_IN_CATALOGUE,
                where,
                f"measure {code} is not in catalogue {catalogue.version}",
            )
            continue
        if measure.polarity is not list_type.polarity:
            problems.add(
                RejectionCode.MEASURE_POLARITY_MISMATCH,
                where,
                f"{code} is a {measure.polarity.value} measure; "
                f"{list_type.code} is a {list_type.polarity.value} list",
            )
        if not level.at_least(measure.min_level):
            problems.add(
                RejectionCode.MEASURE_ABOVE_LEVEL,
                where,
                f"{code} needs level {measure.min_level.value} or graver, "
                f"the designation is {level.value}",
            )
        applies_to_subject = subject_kind in measure.applies_to
        applies_to_persons = reaches_persons and SubjectKind.PERSON in measure.applies_to
        if applies_to_subject:
            own.append(measure)
        if applies_to_persons:
            persons.append(measure)
        if explicit and not (applies_to_subject or applies_to_persons):
            problems.add(
                RejectionCode.MEASURE_NOT_APPLICABLE_TO_SUBJECT,
                where,
                f"{code} applies to {', '.join(k.value for k in measure.applies_to)}, "
                f"not to this {subject_kind.value}",
            )
    return MeasurePlan(tuple(own), tuple(persons))


def tasks_for(
    measures: tuple[Measure, ...],
    list_type: ListType,
    pushed_on: date,
    effective_from: datetime,
) -> tuple[TaskSpec, ...]:
    """One task per (measure, department) (惩戒事项逐一对应), due a regime-set number of
    working days after the designation is pushed."""
    deadline = add_working_days(pushed_on, list_type.feedback_working_days)
    return tuple(
        TaskSpec(
            measure=measure.code,
            department=department,
            mandatory=measure.mandatory,
            deadline=deadline,
            until=None
            if measure.duration_days is None
            else effective_from + timedelta(days=measure.duration_days),
        )
        for measure in measures
        for department in measure.departments
    )
