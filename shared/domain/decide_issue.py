"""Deciding an IssueDesignation: every field checked, all problems reported at once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from shared.domain.catalogue.model import ListType, Span
from shared.domain.china_time import china_date, start_of_china_day, utc
from shared.domain.commands import IssueDesignation, RelatedPerson
from shared.domain.decide_measures import check_level, plan_measures, reach, tasks_for
from shared.domain.decide_support import CatalogueLookup, NewEvent, lookup
from shared.domain.event_base import (
    CaseFacts,
    RelatedDesignation,
    RelatedRole,
    TaskSpec,
)
from shared.domain.fold_state import SubjectState
from shared.domain.identifiers import (
    IdentifierError,
    SubjectIdentity,
    derive_identity,
    parse_identifier,
)
from shared.domain.lifecycle_events import DesignationIssued
from shared.domain.periods import period_end
from shared.domain.rejections import Problems, Rejected, RejectionCode
from shared.domain.vocabulary import PeriodFrom, Polarity, SubjectKind


def related_designation_id(parent_id: UUID, subject_id: str) -> UUID:
    """The id of a related person's designation: derived, so a retry derives the same."""
    return uuid5(NAMESPACE_URL, f"urn:jsb:designation:{parent_id}:related:{subject_id}")


def decide_issue(
    state: SubjectState, command: IssueDesignation, catalogue: CatalogueLookup
) -> list[NewEvent] | Rejected:
    problems = Problems()
    today = china_date(command.at)
    raws = [("subject.id", command.subject.id)]
    raws += [(f"subject.other_ids[{i}]", raw) for i, raw in enumerate(command.subject.other_ids)]
    subject = identify(raws, "subject", today, problems)
    persons = _related_persons(command.related_persons, subject, today, problems)
    if state.designation(command.designation_id) is not None:
        problems.add(
            RejectionCode.DESIGNATION_EXISTS,
            "designation_id",
            f"designation {command.designation_id} already exists",
        )
    list_type = lookup(catalogue.list_type, command.list_type)
    if list_type is None:
        problems.add(
            RejectionCode.UNKNOWN_LIST_TYPE,
            "list_type",
            f"list type {command.list_type} is not in catalogue {catalogue.version}",
        )
        return problems.rejected()
    if command.department not in list_type.designating_departments:
        problems.add(
            RejectionCode.DEPARTMENT_NOT_ALLOWED,
            "department",
            f"{command.department} may not designate on {list_type.code}",
        )
    if list_type.polarity is Polarity.INCENTIVE and state.joint_sanctions_in_force(command.at):
        problems.add(
            RejectionCode.INCENTIVE_WHILE_SANCTIONED,
            "list_type",
            "the subject is a joint-sanction target: no incentive designation (交叉比对)",
        )
    level = check_level(list_type, command.level, problems)
    _check_facts(command, list_type, problems)
    _check_ages(subject, persons, list_type, today, problems)
    effective_from, effective_until = _period(command, list_type, today, problems)
    if subject is None or level is None:
        return problems.rejected()
    plan = plan_measures(
        command.measures,
        list_type,
        level,
        subject.subject_kind,
        catalogue,
        problems,
        reaches_persons=bool(persons),
        facts=command.facts,
    )
    if problems:
        return problems.rejected()
    own_tasks = tasks_for(plan.subject, list_type, today, effective_from, command.facts)
    reached: list[tuple[RelatedPerson, SubjectIdentity, tuple[TaskSpec, ...], RelatedDesignation]]
    reached = []
    unreached: list[RelatedDesignation] = []
    for person, identity in persons:
        measures, why, why_not = reach(plan.persons, person.role, person.facts)
        link = RelatedDesignation(
            designation_id=related_designation_id(command.designation_id, identity.subject_id),
            subject_id=identity.subject_id,
            role=person.role,
            name=person.name,
            reached=why,
            not_reached=why_not,
        )
        tasks = tasks_for(measures, list_type, today, effective_from, person.facts)
        if tasks:
            reached.append((person, identity, tasks, link))
        else:
            unreached.append(link)
    record_only = level in list_type.level_scheme.record_only
    if not own_tasks and not reached and not record_only:
        problems.add(
            RejectionCode.NO_MEASURES,
            "measures" if command.measures is not None else "level",
            f"no measure of {list_type.code} at {level.value} applies to this subject "
            "and its facts; only a record-only tier may carry none",
        )
        return problems.rejected()

    def issued(
        designation_id: UUID,
        identity: SubjectIdentity,
        name: str,
        tasks: tuple[TaskSpec, ...],
        related: tuple[RelatedDesignation, ...] = (),
        role: RelatedRole | None = None,
        facts: CaseFacts = command.facts,
        not_reached: tuple[RelatedDesignation, ...] = (),
    ) -> NewEvent:
        data = DesignationIssued(
            designation_id=designation_id,
            subject_id=identity.subject_id,
            subject_kind=identity.subject_kind,
            subject_name=name,
            identifiers=tuple(i.value for i in identity.identifiers),
            list_type=list_type.code,
            polarity=list_type.polarity,
            level=level,
            expiry=list_type.expiry,
            published=list_type.is_published(level),
            reason=command.reason,
            legal_basis=command.legal_basis,
            decision_no=command.decision_no,
            decided_at=command.decided_at,
            designated_by=command.department,
            effective_from=effective_from,
            effective_until=effective_until,
            tasks=tasks,
            parent_designation_id=None if role is None else command.designation_id,
            related_role=role,
            related=related,
            related_not_reached=not_reached,
            catalogue_version=catalogue.version,
            facts=facts,
            joint_sanction=list_type.is_joint_sanction(level),
            record_only=record_only,
        )
        return NewEvent(identity.subject_id, command.at, data)

    links = tuple(link for *_, link in reached)
    events = [
        issued(
            command.designation_id,
            subject,
            command.subject.name,
            own_tasks,
            links,
            not_reached=tuple(unreached),
        )
    ]
    events.extend(
        issued(link.designation_id, identity, link.name, tasks, role=link.role, facts=p.facts)
        for p, identity, tasks, link in reached
    )
    return events


def _check_facts(command: IssueDesignation, list_type: ListType, problems: Problems) -> None:
    """The facts the list type requires, and the facts that only belong to a person."""
    for name in list_type.required_facts:
        if getattr(command.facts, name, None) is None:
            problems.add(
                RejectionCode.FACT_REQUIRED,
                f"facts.{name}",
                f"{list_type.code} needs `{name}` (see the list type's source)",
            )
    for index, person in enumerate(command.related_persons):
        if person.facts.court_ground is not None:
            problems.add(
                RejectionCode.FACT_REQUIRED,
                f"related_persons[{index}].facts.court_ground",
                "the court ground is a fact of the designation, not of a related person",
            )


def _check_ages(
    subject: SubjectIdentity | None,
    persons: list[tuple[RelatedPerson, SubjectIdentity]],
    list_type: ListType,
    today: date,
    problems: Problems,
) -> None:
    """Minors are not listed (法释〔2017〕7号 第四条; 004 篇四 第二条 年满18周岁)."""
    minimum = list_type.minimum_age
    if minimum is None:
        return
    found = [("subject.id", subject)] + [
        (f"related_persons[{i}].id", identity) for i, (_, identity) in enumerate(persons)
    ]
    for where, identity in found:
        age = None if identity is None else identity.age_on(today)
        if age is not None and age < minimum:
            problems.add(
                RejectionCode.SUBJECT_IS_MINOR,
                where,
                f"a person of {age} is a minor: {list_type.code} lists only persons of "
                f"{minimum} or older",
            )


def identify(
    raws: Sequence[tuple[str, str]], field: str, today: date, problems: Problems
) -> SubjectIdentity | None:
    """Validate each identifier (a precise reason per field), then group them."""
    valid = True
    for where, raw in raws:
        try:
            parse_identifier(raw, today=today)
        except IdentifierError as error:
            problems.add(RejectionCode.INVALID_IDENTIFIER, where, error.reason)
            valid = False
    if not valid:
        return None
    try:
        return derive_identity([raw for _, raw in raws], today=today)
    except IdentifierError as error:
        problems.add(RejectionCode.INVALID_IDENTIFIER, field, error.reason)
        return None


def _related_persons(
    persons: tuple[RelatedPerson, ...],
    subject: SubjectIdentity | None,
    today: date,
    problems: Problems,
) -> list[tuple[RelatedPerson, SubjectIdentity]]:
    """落实到人: related persons of an organisation, each a person of their own."""
    if persons and subject is not None and subject.subject_kind is not SubjectKind.ORGANIZATION:
        problems.add(
            RejectionCode.INVALID_RELATED_PERSON,
            "related_persons",
            "only the designation of an organisation reaches related persons",
        )
    found: list[tuple[RelatedPerson, SubjectIdentity]] = []
    seen: set[str] = set()
    for index, person in enumerate(persons):
        where = f"related_persons[{index}].id"
        identity = identify([(where, person.id)], where, today, problems)
        if identity is None:
            continue
        if identity.subject_kind is not SubjectKind.PERSON:
            problems.add(
                RejectionCode.INVALID_RELATED_PERSON, where, "a related person must be a person"
            )
        elif identity.subject_id in seen:
            problems.add(RejectionCode.INVALID_RELATED_PERSON, where, "listed twice")
        else:
            seen.add(identity.subject_id)
            found.append((person, identity))
    return found


def default_period(list_type: ListType, facts: CaseFacts) -> Span | None:
    """The period a listing runs when its decision states none: the list type's, in
    its unit; none for a court listing on a ground without a term (法释〔2017〕7号
    第二条: item 1 of 第一条 ends on performance)."""
    if facts.court_ground in list_type.no_period_court_grounds:
        return None
    return list_type.term


def _period(
    command: IssueDesignation, list_type: ListType, today: date, problems: Problems
) -> tuple[datetime, datetime | None]:
    """Effective from the push unless given; until the regime's period (in its unit),
    counted from the decision or from publication (the push), unless given. An
    explicit "no end" only where the regime has no term for this listing or allows one;
    an explicit end no later than the regime's longest period."""
    effective_from = utc(command.effective_from or command.at)
    effective_until = None if command.effective_until is None else utc(command.effective_until)
    period = default_period(list_type, command.facts)
    start = (
        start_of_china_day(command.decided_at)
        if list_type.period_from is PeriodFrom.DECISION
        else effective_from
    )
    if command.indefinite:
        if period is not None and not list_type.indefinite_allowed:
            problems.add(
                RejectionCode.INVALID_PERIOD,
                "effective_until",
                f"{list_type.code} has a period ({period.amount} {period.unit.value}) here: "
                "an indefinite listing is not allowed",
            )
    elif effective_until is None and period is not None:
        effective_until = period_end(start, period)
    elif (
        effective_until is not None
        and command.facts.court_ground in list_type.no_period_court_grounds
    ):
        problems.add(
            RejectionCode.INVALID_PERIOD,
            "effective_until",
            f"court ground {command.facts.court_ground} has no term: the listing ends on "
            "performance (法释〔2017〕7号 第二条), not on a date",
        )
    if (
        effective_until is not None
        and list_type.max_period is not None
        and effective_until > period_end(start, list_type.max_period)
    ):
        longest = list_type.max_period
        problems.add(
            RejectionCode.INVALID_PERIOD,
            "effective_until",
            f"{list_type.code} lists for at most {longest.amount} {longest.unit.value}",
        )
    if command.decided_at > today:
        problems.add(RejectionCode.INVALID_PERIOD, "decided_at", "the decision date is ahead")
    if effective_until is not None and effective_until <= effective_from:
        problems.add(
            RejectionCode.INVALID_PERIOD,
            "effective_until",
            "the period ends before it takes effect",
        )
    return effective_from, effective_until
