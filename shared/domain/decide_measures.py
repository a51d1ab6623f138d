"""Which measures a designation may carry, and their tasks (措施清单, 防止惩戒过度)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from shared.domain.calendar import add_working_days
from shared.domain.catalogue.model import ListType, Measure
from shared.domain.china_time import start_of_china_day
from shared.domain.decide_support import CatalogueLookup, lookup
from shared.domain.event_base import CaseFacts, MeasureReach, RelatedRole, TaskSpec
from shared.domain.periods import period_end
from shared.domain.rejections import Problems, RejectionCode
from shared.domain.vocabulary import Level, LevelSchemeKind, SubjectKind


def check_level(
    list_type: ListType, level: Level | None, problems: Problems, field: str = "level"
) -> Level | None:
    """The level a designation is recorded at, by the list type's scheme (issue 9):
    a fixed-level list takes its one level (given or omitted); a graded list needs one
    of its levels."""
    scheme = list_type.level_scheme
    accepted = ", ".join(lv.value for lv in scheme.levels)
    if scheme.kind is LevelSchemeKind.FIXED:
        fixed = scheme.levels[0]
        if level is None or level is fixed:
            return fixed
        problems.add(
            RejectionCode.LEVEL_NOT_IN_SCHEME,
            field,
            f"{list_type.code} has no levels: membership is the sanction, recorded at the "
            f"fixed level {fixed.value}; omit `level` or give {fixed.value}",
        )
        return None
    if level is None:
        problems.add(
            RejectionCode.LEVEL_NOT_IN_SCHEME,
            field,
            f"{list_type.code} is graded: give one of its levels ({accepted})",
        )
        return None
    if level not in scheme.levels:
        problems.add(
            RejectionCode.LEVEL_NOT_IN_SCHEME,
            field,
            f"{list_type.code} does not designate at {level.value}: its levels are {accepted}",
        )
        return None
    return level


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
    facts: CaseFacts | None = None,
) -> MeasurePlan:
    """Check `codes` (None: the list type's bundle for the level) and split them.

    With related persons, a measure for persons only reaches them and not the
    organisation. Explicit measures that reach nobody are refused; bundle measures for
    the other kind of subject are simply not applied. Problems name `field[i]` when
    `indexed` (default: when the codes are explicit), else `field`.

    A measure that needs a fact of the case: planned for the subject only when the
    fact holds (`facts`); named explicitly without it, refused. Whether it reaches a
    related person is decided per person (`reach`)."""
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
        fact = measure.requires_fact
        fact_holds = fact is None or (facts or CaseFacts()).holds(fact)
        applies_to_subject = subject_kind in measure.applies_to
        applies_to_persons = reaches_persons and SubjectKind.PERSON in measure.applies_to
        if explicit and applies_to_subject and not fact_holds and not applies_to_persons:
            problems.add(
                RejectionCode.FACT_REQUIRED,
                where,
                f"{code} is applied only when {fact} holds: state it in `facts`",
            )
        if applies_to_subject and fact_holds:
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


def reach(
    measures: tuple[Measure, ...], role: RelatedRole, facts: CaseFacts
) -> tuple[tuple[Measure, ...], tuple[MeasureReach, ...], tuple[MeasureReach, ...]]:
    """Which person measures of an organisation's listing reach a related person in
    `role` (issue 9, item 3): those whose role scope names the role and whose fact of
    the case holds for this person. Returns (measures, reached, not reached), the last
    two with the reason, for the response and the event."""
    chosen: list[Measure] = []
    reached: list[MeasureReach] = []
    missed: list[MeasureReach] = []
    for measure in measures:
        scope = measure.reaches
        if scope is None or role not in scope.roles:
            roles = ", ".join(r.value for r in scope.roles) if scope else "no related person"
            missed.append(
                MeasureReach(
                    measure=measure.code, why=f"{role.value} is not in its scope ({roles})"
                )
            )
        elif measure.requires_fact is not None and not facts.holds(measure.requires_fact):
            missed.append(
                MeasureReach(
                    measure=measure.code, why=f"needs {measure.requires_fact} for this person"
                )
            )
        else:
            why = f"{role.value}: {scope.source}"
            if measure.requires_fact is not None:
                why += f"; {measure.requires_fact}"
            chosen.append(measure)
            reached.append(MeasureReach(measure=measure.code, why=why))
    return tuple(chosen), tuple(reached), tuple(missed)


def tasks_for(
    measures: tuple[Measure, ...],
    list_type: ListType,
    pushed_on: date,
    effective_from: datetime,
    facts: CaseFacts | None = None,
) -> tuple[TaskSpec, ...]:
    """One task per (measure, department) (惩戒事项逐一对应), due a regime-set number of
    working days after the designation is pushed. A measure's own duration counts from
    the listing, or from the date of its fact (a ban from a penalty or dismissal)."""
    deadline = add_working_days(pushed_on, list_type.feedback_working_days)
    return tuple(
        TaskSpec(
            measure=measure.code,
            department=department,
            mandatory=measure.mandatory,
            deadline=deadline,
            until=_own_until(measure, effective_from, facts or CaseFacts()),
        )
        for measure in measures
        for department in measure.departments
    )


def _own_until(measure: Measure, effective_from: datetime, facts: CaseFacts) -> datetime | None:
    span = measure.duration  # filled from `duration_days` by the model when only that is given
    if span is None:
        return None
    start = effective_from
    if measure.counts_from_fact and facts.penalty_or_dismissal_on is not None:
        start = start_of_china_day(facts.penalty_or_dismissal_on)
    return period_end(start, span)
