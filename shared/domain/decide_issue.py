"""Deciding an IssueDesignation: every field checked, all problems reported at once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from uuid import NAMESPACE_URL, UUID, uuid5

from shared.domain.catalogue.model import ListType
from shared.domain.china_time import china_date, start_of_china_day, utc
from shared.domain.commands import IssueDesignation, RelatedPerson
from shared.domain.decide_measures import plan_measures, tasks_for
from shared.domain.decide_support import CatalogueLookup, NewEvent, lookup
from shared.domain.event_base import RelatedDesignation, RelatedRole, TaskSpec
from shared.domain.fold_state import SubjectState
from shared.domain.identifiers import (
    IdentifierError,
    SubjectIdentity,
    derive_identity,
    parse_identifier,
)
from shared.domain.lifecycle_events import DesignationIssued
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
    if list_type.polarity is Polarity.INCENTIVE and state.sanctions_in_force(command.at):
        problems.add(
            RejectionCode.INCENTIVE_WHILE_SANCTIONED,
            "list_type",
            "the subject has a sanction in force: no incentive designation (交叉比对)",
        )
    effective_from, effective_until = _period(command, list_type, today, problems)
    if subject is None:
        return problems.rejected()
    plan = plan_measures(
        command.measures,
        list_type,
        command.level,
        subject.subject_kind,
        catalogue,
        problems,
        reaches_persons=bool(persons),
    )
    if problems:
        return problems.rejected()

    def issued(
        designation_id: UUID,
        identity: SubjectIdentity,
        name: str,
        tasks: tuple[TaskSpec, ...],
        related: tuple[RelatedDesignation, ...] = (),
        role: RelatedRole | None = None,
    ) -> NewEvent:
        data = DesignationIssued(
            designation_id=designation_id,
            subject_id=identity.subject_id,
            subject_kind=identity.subject_kind,
            subject_name=name,
            identifiers=tuple(i.value for i in identity.identifiers),
            list_type=list_type.code,
            polarity=list_type.polarity,
            level=command.level,
            expiry=list_type.expiry,
            published=list_type.published,
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
            catalogue_version=catalogue.version,
        )
        return NewEvent(identity.subject_id, command.at, data)

    links = tuple(
        RelatedDesignation(
            designation_id=related_designation_id(command.designation_id, identity.subject_id),
            subject_id=identity.subject_id,
            role=person.role,
            name=person.name,
        )
        for person, identity in persons
    )
    own_tasks = tasks_for(plan.subject, list_type, today, effective_from)
    person_tasks = tasks_for(plan.persons, list_type, today, effective_from)
    events = [issued(command.designation_id, subject, command.subject.name, own_tasks, links)]
    events.extend(
        issued(link.designation_id, identity, link.name, person_tasks, role=link.role)
        for link, (_, identity) in zip(links, persons, strict=True)
    )
    return events


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


def _period(
    command: IssueDesignation, list_type: ListType, today: date, problems: Problems
) -> tuple[datetime, datetime | None]:
    """Effective from the push unless given; until the regime's period, counted from
    the decision or from publication (the push), unless given."""
    effective_from = utc(command.effective_from or command.at)
    effective_until = None if command.effective_until is None else utc(command.effective_until)
    if effective_until is None and list_type.period_days is not None:
        start = (
            start_of_china_day(command.decided_at)
            if list_type.period_from is PeriodFrom.DECISION
            else effective_from
        )
        effective_until = utc(start + timedelta(days=list_type.period_days))
    if command.decided_at > today:
        problems.add(RejectionCode.INVALID_PERIOD, "decided_at", "the decision date is ahead")
    if effective_until is not None and effective_until <= effective_from:
        problems.add(
            RejectionCode.INVALID_PERIOD,
            "effective_until",
            "the period ends before it takes effect",
        )
    return effective_from, effective_until
