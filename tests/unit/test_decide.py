"""decide: every rule of issue 3 item 4, each rejection with its stable code."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest

from shared.domain.calendar import add_working_days
from shared.domain.china_time import CHINA_TZ, china_date
from shared.domain.commands import (
    AmendDesignation,
    ApplyExit,
    ApproveExit,
    DesignationChanges,
    ExpireDesignation,
    FileObjection,
    GrantRepair,
    OpenExitWindow,
    RefuseRepair,
    RemindObjection,
    ResolveObjection,
    RevokeDesignation,
    SupersedeDesignation,
)
from shared.domain.decide import NewEvent, Rejected, Rejection, RejectionCode, decide
from shared.domain.decide_issue import related_designation_id
from shared.domain.event_base import CaseFacts
from shared.domain.events import (
    DesignationAmended,
    DesignationIssued,
    DesignationRevoked,
    DesignationSuperseded,
    ExitApproved,
    ExitWindowOpened,
    ObjectionFiled,
    ObjectionOutcome,
    ObjectionReminder,
    ObjectionResolved,
    RaisedBy,
    RelatedRole,
    ReminderStage,
    RepairGranted,
    RepairRefused,
)
from shared.domain.fold_state import SubjectState
from shared.domain.vocabulary import SubjectKind
from shared.web.statuses import code_status, rejected_status
from tests.unit.domain_fixtures import (
    A_GRADE,
    COURT,
    ESPECIALLY,
    FLIGHT,
    FUNDING,
    GENERAL,
    GREEN,
    INDEX,
    KEY_WATCH,
    LICENCE,
    LIST_TYPES,
    MEASURES,
    MINOR,
    OFFICER,
    RAIL,
    SAFETY,
    T0,
    TENDER,
    VERSION,
    WARN,
    RawLookup,
    Subject,
    accepted,
    at,
    bad_check,
    issue,
    recorded,
    rejected,
    resident_id,
    uscc,
)

pytestmark = pytest.mark.filterwarnings("ignore::shared.domain.calendar.CalendarFallbackWarning")
C = RejectionCode
EMPTY = SubjectState()


def codes(result: Rejected) -> list[tuple[RejectionCode, str]]:
    return [(r.code, r.field) for r in result.rejections]


# --- issuing --------------------------------------------------------------------------


def test_the_default_bundle_fans_out_one_task_per_measure_and_department() -> None:
    news = accepted(EMPTY, issue())
    assert len(news) == 1
    data = news[0].data
    assert isinstance(data, DesignationIssued)
    assert [(t.measure, t.department) for t in data.tasks] == [
        (TENDER, "ggzy"),
        (FUNDING, "finance"),
        (FUNDING, "pbc"),
        (LICENCE, "samr"),
    ]
    deadline = add_working_days(date(2025, 3, 3), 5)
    assert {t.deadline for t in data.tasks} == {deadline}
    assert data.catalogue_version == VERSION
    assert data.subject_kind is SubjectKind.ORGANIZATION
    assert data.effective_from == T0
    assert data.effective_until == datetime(2027, 3, 2, 16, tzinfo=UTC)  # 730 days from decision
    assert data.tasks[1].mandatory is False
    assert data.tasks[3].until == T0 + timedelta(days=1825)
    assert news[0].subject == data.subject_id
    assert news[0].time == T0


def test_a_period_from_publication_counts_from_effective_from() -> None:
    data = accepted(EMPTY, issue(list_type=SAFETY, effective_from=at(2)))[0].data
    assert data.effective_until == at(2 + 365)  # type: ignore[union-attr]


def test_explicit_dates_are_kept_in_utc() -> None:
    china = datetime(2025, 3, 3, 12, tzinfo=UTC).astimezone(CHINA_TZ)
    command = issue(effective_from=china, effective_until=china + timedelta(days=9))
    data = accepted(EMPTY, command)[0].data
    assert data.effective_from.utcoffset() == timedelta(0)  # type: ignore[union-attr]
    assert data.effective_until == datetime(2025, 3, 12, 12, tzinfo=UTC)  # type: ignore[union-attr]


def test_explicit_measures_are_deduplicated_in_order() -> None:
    data = accepted(EMPTY, issue(measures=(TENDER, TENDER)))[0].data
    assert [t.measure for t in data.tasks] == [TENDER]  # type: ignore[union-attr]


def test_a_minor_warning_may_carry_no_measure_at_all() -> None:
    data = accepted(EMPTY, issue(list_type=KEY_WATCH, level=MINOR, measures=()))[0].data
    assert data.tasks == ()  # type: ignore[union-attr]


def test_every_problem_of_an_issue_is_reported_at_once() -> None:
    command = issue(
        bad_check(uscc()),
        department="tax",
        measures=("no.such", GREEN, OFFICER, FLIGHT),
        level=GENERAL,
        decided_at=date(2025, 3, 9),
        effective_until=T0 - timedelta(days=1),
    )
    result = rejected(EMPTY, command)
    assert codes(result) == [
        (C.INVALID_IDENTIFIER, "subject.id"),
        (C.DEPARTMENT_NOT_ALLOWED, "department"),
        (C.INVALID_PERIOD, "decided_at"),
        (C.INVALID_PERIOD, "effective_until"),
    ]
    assert result.rejections[0].message == "check character should be E, got 1"
    assert rejected_status(result) == 403


def test_measure_rules_are_each_reported_per_measure() -> None:
    command = issue(measures=("no.such", GREEN, OFFICER, FLIGHT), level=GENERAL)
    result = rejected(EMPTY, command)
    assert codes(result) == [
        (C.MEASURE_NOT_IN_CATALOGUE, "measures[0]"),
        (C.MEASURE_POLARITY_MISMATCH, "measures[1]"),
        (C.MEASURE_ABOVE_LEVEL, "measures[2]"),
        (C.MEASURE_NOT_APPLICABLE_TO_SUBJECT, "measures[2]"),
        (C.MEASURE_ABOVE_LEVEL, "measures[3]"),
        (C.MEASURE_NOT_APPLICABLE_TO_SUBJECT, "measures[3]"),
    ]
    assert "needs level serious or graver" in result.rejections[4].message
    assert rejected_status(result) == 422


def test_an_unknown_list_type_stops_the_checks_that_depend_on_it() -> None:
    assert codes(rejected(EMPTY, issue(list_type="court.nowhere"))) == [
        (C.UNKNOWN_LIST_TYPE, "list_type")
    ]


def test_identifier_problems_are_reported_per_identifier() -> None:
    command = issue(uscc()).model_copy(
        update={
            "subject": issue(uscc()).subject.model_copy(
                update={"other_ids": ("E1234567", "not-an-id")}
            )
        }
    )
    result = rejected(EMPTY, command)
    assert codes(result) == [(C.INVALID_IDENTIFIER, "subject.other_ids[1]")]
    mixed = command.model_copy(
        update={"subject": command.subject.model_copy(update={"other_ids": ("E1234567",)})}
    )
    assert codes(rejected(EMPTY, mixed)) == [(C.INVALID_IDENTIFIER, "subject")]


def test_an_organisation_known_by_several_ids_carries_them_all() -> None:
    old_code = uscc()[8:17]
    command = issue(uscc()).model_copy(
        update={"subject": issue(uscc()).subject.model_copy(update={"other_ids": (old_code,)})}
    )
    data = accepted(EMPTY, command)[0].data
    assert data.identifiers == (uscc(), old_code)  # type: ignore[union-attr]


def test_a_designation_id_cannot_be_reused() -> None:
    subject = Subject()
    d = subject.issue()
    assert codes(rejected(subject.state, issue(subject.subject_id, designation_id=d))) == [
        (C.DESIGNATION_EXISTS, "designation_id")
    ]


def test_an_incentive_is_refused_while_a_sanction_is_in_force() -> None:
    subject = Subject()
    subject.issue()
    command = issue(subject.subject_id, list_type=A_GRADE, level=MINOR, at=at(1))
    result = rejected(subject.state, command)
    assert codes(result) == [(C.INCENTIVE_WHILE_SANCTIONED, "list_type")]
    assert rejected_status(result) == 409
    accepted(SubjectState(), command)


def test_a_person_gets_person_measures_of_the_bundle() -> None:
    data = accepted(EMPTY, issue(resident_id(), list_type=COURT))[0].data
    assert [t.measure for t in data.tasks] == [FLIGHT, RAIL]  # type: ignore[union-attr]
    assert data.subject_kind is SubjectKind.PERSON  # type: ignore[union-attr]


def test_related_persons_get_linked_designations_with_only_person_measures() -> None:
    org = uscc()
    rep, boss = resident_id(1), resident_id(2)
    command = issue(
        org,
        list_type=COURT,
        level=ESPECIALLY,
        related=[(rep, RelatedRole.LEGAL_REPRESENTATIVE), (boss, RelatedRole.PRINCIPAL)],
    )
    news = accepted(EMPTY, command)
    assert [n.subject for n in news] == [org, rep, boss]
    parent, child, _ = (n.data for n in news)
    assert isinstance(parent, DesignationIssued)
    assert isinstance(child, DesignationIssued)
    assert [t.measure for t in parent.tasks] == [TENDER]
    assert [t.measure for t in child.tasks] == [FLIGHT, RAIL, OFFICER]
    assert child.parent_designation_id == parent.designation_id
    assert child.related_role is RelatedRole.LEGAL_REPRESENTATIVE
    assert child.designation_id == related_designation_id(parent.designation_id, rep)
    assert [(r.subject_id, r.role) for r in parent.related] == [
        (rep, RelatedRole.LEGAL_REPRESENTATIVE),
        (boss, RelatedRole.PRINCIPAL),
    ]
    assert child.subject_name == "P0"
    assert accepted(EMPTY, command)[1].data.designation_id == child.designation_id  # stable


def test_explicit_person_measures_reach_related_persons_not_the_organisation() -> None:
    rep = resident_id(1)
    command = issue(measures=(FLIGHT,), related=[(rep, RelatedRole.DIRECTOR)])
    parent, child = (n.data for n in accepted(EMPTY, command))
    assert parent.tasks == ()  # type: ignore[union-attr]
    assert [t.measure for t in child.tasks] == [FLIGHT]  # type: ignore[union-attr]


def test_related_persons_must_be_distinct_valid_persons_of_an_organisation() -> None:
    rep = resident_id(1)
    command = issue(
        related=[
            (rep, RelatedRole.DIRECTOR),
            (rep, RelatedRole.SUPERVISOR),
            (uscc(3), RelatedRole.PRINCIPAL),
            (bad_check(resident_id(4)), RelatedRole.PRINCIPAL),
        ]
    )
    assert codes(rejected(EMPTY, command)) == [
        (C.INVALID_RELATED_PERSON, "related_persons[1].id"),
        (C.INVALID_RELATED_PERSON, "related_persons[2].id"),
        (C.INVALID_IDENTIFIER, "related_persons[3].id"),
    ]
    person_with_persons = issue(
        resident_id(9), list_type=COURT, related=[(rep, RelatedRole.PRINCIPAL)]
    )
    assert codes(rejected(EMPTY, person_with_persons)) == [
        (C.INVALID_RELATED_PERSON, "related_persons")
    ]


def test_decide_guards_against_an_inconsistent_bundle_and_raising_lookups() -> None:
    bad = LIST_TYPES[3].model_copy(
        update={"bundles": {MINOR: ("notice.warning", "procurement.tender", "gone.x")}}
    )
    lookup = RawLookup(MEASURES, [bad])
    result = rejected(EMPTY, issue(list_type=KEY_WATCH, level=MINOR), lookup)
    assert codes(result) == [
        (C.MEASURE_ABOVE_LEVEL, "measures"),
        (C.MEASURE_NOT_IN_CATALOGUE, "measures"),
    ]
    assert codes(rejected(EMPTY, issue(list_type="x.y"), lookup)) == [
        (C.UNKNOWN_LIST_TYPE, "list_type")
    ]


def test_decide_accepts_the_shipped_catalogue_index() -> None:
    from shared.domain.catalogue.index import default_index

    index = default_index()
    command = issue(
        resident_id(),
        list_type=COURT,
        department="court",
        level=None,
        facts=CaseFacts(court_ground=2),
    )
    result = decide(EMPTY, command, index)
    assert not isinstance(result, Rejected), result
    assert result[0].data.catalogue_version == index.version  # type: ignore[union-attr]


# --- corrections ----------------------------------------------------------------------


def _subject(**fields: object) -> tuple[Subject, object]:
    subject = Subject(fields.pop("subject_id", None))  # type: ignore[arg-type]
    d = subject.issue(**fields)
    return subject, d


def test_an_amendment_records_old_and_new_values() -> None:
    subject, d = _subject()
    news = accepted(
        subject.state,
        AmendDesignation(
            designation_id=d,  # type: ignore[arg-type]
            changes=DesignationChanges(
                reason="corrected", decision_no="D-1", effective_until=at(100)
            ),
            reason="typo",
            department="samr",
            at=at(1),
        ),
    )
    data = news[0].data
    assert isinstance(data, DesignationAmended)
    assert set(data.changes) == {"reason", "effective_until"}  # decision_no unchanged
    assert data.changes["reason"].old == "serious breach"
    assert data.changes["effective_until"].new == "2025-06-11T02:00:00Z"


def test_an_amendment_of_measures_keeps_existing_tasks_and_adds_new_ones() -> None:
    subject, d = _subject(measures=(TENDER,))
    news = accepted(
        subject.state,
        AmendDesignation(
            designation_id=d,  # type: ignore[arg-type]
            changes=DesignationChanges(measures=(TENDER, FUNDING)),
            reason="add",
            department="samr",
            at=at(10),
        ),
    )
    subject.add(recorded(news[0]))
    tasks = subject.state.designation(d).data.tasks  # type: ignore[union-attr,arg-type]
    assert [(t.measure, t.deadline) for t in tasks] == [
        (TENDER, add_working_days(date(2025, 3, 3), 5)),
        (FUNDING, add_working_days(date(2025, 3, 13), 5)),
        (FUNDING, add_working_days(date(2025, 3, 13), 5)),
    ]


def test_amendment_refusals() -> None:
    subject, d = _subject()

    def amend(changes: DesignationChanges, department: str = "samr") -> Rejected:
        return rejected(
            subject.state,
            AmendDesignation(
                designation_id=d,  # type: ignore[arg-type]
                changes=changes,
                reason="r",
                department=department,
                at=at(1),
            ),
        )

    assert codes(amend(DesignationChanges(reason="serious breach"))) == [
        (C.NOTHING_TO_AMEND, "changes")
    ]
    assert codes(amend(DesignationChanges(level=GENERAL), "court")) == [
        (C.NOT_OWN_DESIGNATION, "department"),
        (C.MEASURE_ABOVE_LEVEL, "changes.level"),
        (C.MEASURE_ABOVE_LEVEL, "changes.level"),
    ]
    assert codes(amend(DesignationChanges(measures=(GREEN,)))) == [
        (C.MEASURE_POLARITY_MISMATCH, "changes.measures[0]")
    ]
    assert codes(amend(DesignationChanges(effective_until=T0))) == [
        (C.INVALID_PERIOD, "changes.effective_until")
    ]
    unknown = rejected(
        subject.state,
        AmendDesignation(
            designation_id=uuid4(),
            changes=DesignationChanges(reason="x"),
            reason="r",
            department="samr",
            at=at(1),
        ),
    )
    assert codes(unknown) == [(C.DESIGNATION_NOT_FOUND, "designation_id")]
    assert rejected_status(unknown) == 404
    gone = RawLookup(MEASURES, [])
    result = rejected(
        subject.state,
        AmendDesignation(
            designation_id=d,  # type: ignore[arg-type]
            changes=DesignationChanges(level=ESPECIALLY),
            reason="r",
            department="samr",
            at=at(1),
        ),
        gone,
    )
    assert codes(result) == [(C.UNKNOWN_LIST_TYPE, "designation_id")]


def test_a_revoked_designation_is_closed() -> None:
    subject, d = _subject()
    subject.run(RevokeDesignation(designation_id=d, reason="x", department="samr", at=at(1)))  # type: ignore[arg-type]
    assert codes(
        rejected(
            subject.state,
            AmendDesignation(
                designation_id=d,  # type: ignore[arg-type]
                changes=DesignationChanges(reason="y"),
                reason="r",
                department="samr",
                at=at(2),
            ),
        )
    ) == [(C.DESIGNATION_CLOSED, "designation_id")]
    assert codes(
        rejected(
            subject.state,
            RevokeDesignation(designation_id=d, reason="x", department="samr", at=at(2)),  # type: ignore[arg-type]
        )
    ) == [(C.DESIGNATION_CLOSED, "designation_id")]


def test_revocation_reaches_related_persons() -> None:
    subject = Subject()
    rep = resident_id(1)
    news = subject.run(issue(subject.subject_id, related=[(rep, RelatedRole.DIRECTOR)]))
    d = news[0].data.designation_id
    revoked = accepted(
        subject.state,
        RevokeDesignation(
            designation_id=d, reason="wrong", restore_reputation=False, department="samr", at=at(1)
        ),
    )
    assert [(n.subject, type(n.data)) for n in revoked] == [
        (subject.subject_id, DesignationRevoked),
        (rep, DesignationRevoked),
    ]
    assert revoked[1].data.designation_id == news[1].data.designation_id
    assert revoked[1].data.restore_reputation is False  # type: ignore[union-attr]


def test_not_own_designation_is_refused_everywhere() -> None:
    subject, d = _subject()
    commands = [
        RevokeDesignation(designation_id=d, reason="x", department="tax", at=at(1)),  # type: ignore[arg-type]
        GrantRepair(designation_id=d, department="tax", at=at(400)),  # type: ignore[arg-type]
        RefuseRepair(designation_id=d, department="tax", at=at(1)),  # type: ignore[arg-type]
        ExpireDesignation(designation_id=d, department="tax", at=at(800)),  # type: ignore[arg-type]
        FileObjection(
            designation_id=d,
            raised_by=RaisedBy.SUBJECT,
            grounds="g",
            department="tax",
            at=at(1),  # type: ignore[arg-type]
        ),
    ]
    for command in commands:
        result = rejected(subject.state, command)
        assert result.codes[0] is C.NOT_OWN_DESIGNATION
        assert rejected_status(result) == 403


def test_supersession() -> None:
    subject, old = _subject(list_type=KEY_WATCH, level=GENERAL)
    new = subject.issue(at=at(1))
    news = accepted(
        subject.state,
        SupersedeDesignation(
            designation_id=old, by_designation_id=new, department="samr", at=at(1)
        ),  # type: ignore[arg-type]
    )
    assert isinstance(news[0].data, DesignationSuperseded)
    missing = rejected(
        subject.state,
        SupersedeDesignation(
            designation_id=old, by_designation_id=uuid4(), department="samr", at=at(1)
        ),  # type: ignore[arg-type]
    )
    assert codes(missing) == [(C.DESIGNATION_NOT_FOUND, "by_designation_id")]
    nothing = rejected(
        subject.state,
        SupersedeDesignation(
            designation_id=uuid4(), by_designation_id=new, department="samr", at=at(1)
        ),
    )
    assert codes(nothing) == [(C.DESIGNATION_NOT_FOUND, "designation_id")]
    subject.run(
        SupersedeDesignation(designation_id=old, by_designation_id=new, department="samr", at=at(1))  # type: ignore[arg-type]
    )
    again = rejected(
        subject.state,
        SupersedeDesignation(
            designation_id=old, by_designation_id=new, department="samr", at=at(2)
        ),  # type: ignore[arg-type]
    )
    assert codes(again) == [(C.NOT_IN_FORCE, "designation_id")]


def test_expiry_needs_an_automatic_regime_and_a_period_over() -> None:
    subject, d = _subject(list_type=KEY_WATCH, level=GENERAL)
    until = subject.state.designation(d).data.effective_until  # type: ignore[union-attr,arg-type]
    early = rejected(
        subject.state,
        ExpireDesignation(designation_id=d, department="samr", at=at(1)),  # type: ignore[arg-type]
    )
    assert codes(early) == [(C.NOT_YET_EXPIRED, "designation_id")]
    subject.run(ExpireDesignation(designation_id=d, department="samr", at=until))  # type: ignore[arg-type]
    twice = rejected(
        subject.state,
        ExpireDesignation(designation_id=d, department="samr", at=until),  # type: ignore[arg-type]
    )
    assert codes(twice) == [(C.DESIGNATION_CLOSED, "designation_id")]
    safety, s = _subject(list_type=SAFETY)
    result = rejected(
        safety.state, ExpireDesignation(designation_id=s, department="mem", at=at(999))
    )  # type: ignore[arg-type]
    assert codes(result) == [(C.EXPIRY_NOT_AUTOMATIC, "designation_id")]
    assert codes(
        rejected(EMPTY, ExpireDesignation(designation_id=uuid4(), department="mem", at=at(1)))
    ) == [(C.DESIGNATION_NOT_FOUND, "designation_id")]


# --- objections -------------------------------------------------------------------------


def _object(subject: Subject, d: object, **fields: object) -> FileObjection:
    values: dict[str, object] = {
        "designation_id": d,
        "raised_by": RaisedBy.SUBJECT,
        "grounds": "not us",
        "department": "samr",
        "at": at(1),
    }
    values.update(fields)
    return FileObjection(**values)  # type: ignore[arg-type]


def test_an_objection_copies_the_regime_and_counts_working_days() -> None:
    subject, d = _subject()
    data = accepted(subject.state, _object(subject, d, at=datetime(2025, 3, 7, 17, tzinfo=UTC)))[
        0
    ].data
    assert isinstance(data, ObjectionFiled)
    # filed Saturday 01:00 in China: 15 working days from that Chinese date
    assert data.review_deadline == add_working_days(date(2025, 3, 8), 15)
    assert data.suspends_measures
    assert data.pauses_clock
    assert data.department is None


def test_an_implementing_department_may_raise_an_objection_on_its_own_task() -> None:
    subject, d = _subject()
    command = _object(subject, d, raised_by=RaisedBy.DEPARTMENT, department="pbc")
    data = accepted(subject.state, command)[0].data
    assert data.department == "pbc"  # type: ignore[union-attr]
    stranger = _object(subject, d, raised_by=RaisedBy.DEPARTMENT, department="caac")
    assert codes(rejected(subject.state, stranger)) == [(C.DEPARTMENT_NOT_ALLOWED, "department")]


def test_objection_refusals() -> None:
    subject, d = _subject(effective_from=at(5))
    assert codes(rejected(subject.state, _object(subject, d))) == [
        (C.NOT_IN_FORCE, "designation_id")
    ]
    oid = uuid4()
    subject.run(_object(subject, d, objection_id=oid, at=at(6)))
    assert codes(rejected(subject.state, _object(subject, d, at=at(7)))) == [
        (C.OBJECTION_ALREADY_OPEN, "designation_id")
    ]
    assert codes(rejected(subject.state, _object(subject, d, objection_id=oid, at=at(7)))) == [
        (C.OBJECTION_ALREADY_OPEN, "objection_id")
    ]
    assert codes(rejected(EMPTY, _object(subject, uuid4()))) == [
        (C.DESIGNATION_NOT_FOUND, "designation_id")
    ]
    lost = RawLookup(MEASURES, [])
    other, od = _subject()
    assert codes(rejected(other.state, _object(other, od), lost)) == [
        (C.UNKNOWN_LIST_TYPE, "designation_id")
    ]


def test_resolutions() -> None:
    subject, d = _subject()
    oid = uuid4()
    subject.run(_object(subject, d, objection_id=oid))

    def resolve(outcome: ObjectionOutcome, **fields: object) -> list[NewEvent] | Rejected:
        values: dict[str, object] = {"department": "samr", "at": at(3)}
        values.update(fields)
        return decide(
            subject.state,
            ResolveObjection(objection_id=oid, outcome=outcome, **values),  # type: ignore[arg-type]
            INDEX,
        )

    rejected_ = resolve(ObjectionOutcome.REJECTED)
    assert isinstance(rejected_, list)
    assert rejected_[0].data.new_effective_until == (  # type: ignore[union-attr]
        subject.state.designation(d).data.effective_until + timedelta(days=2)  # type: ignore[union-attr,arg-type,operator]
    )
    upheld = resolve(ObjectionOutcome.UPHELD, note="wrong subject")
    assert isinstance(upheld, list)
    assert [type(n.data) for n in upheld] == [ObjectionResolved, DesignationRevoked]
    assert upheld[1].data.objection_id == oid  # type: ignore[union-attr]
    assert upheld[1].data.reason == "wrong subject"  # type: ignore[union-attr]
    assert upheld[0].data.new_effective_until is None  # type: ignore[union-attr]
    partial = resolve(
        ObjectionOutcome.PARTIALLY_UPHELD,
        amendment=DesignationChanges(measures=(TENDER,)),
    )
    assert isinstance(partial, list)
    assert [type(n.data) for n in partial] == [ObjectionResolved, DesignationAmended]
    changes = partial[1].data.changes  # type: ignore[union-attr]
    assert set(changes) == {"tasks"}
    assert partial[1].data.reason == "objection partially upheld"  # type: ignore[union-attr]
    moved = resolve(
        ObjectionOutcome.PARTIALLY_UPHELD,
        amendment=DesignationChanges(effective_until=at(900)),
    )
    assert isinstance(moved, list)
    old = moved[1].data.changes["effective_until"].old  # type: ignore[union-attr]
    assert old == moved[0].data.new_effective_until.isoformat().replace("+00:00", "Z")  # type: ignore[union-attr]
    missing = resolve(ObjectionOutcome.PARTIALLY_UPHELD)
    assert isinstance(missing, Rejected)
    assert codes(missing) == [(C.AMENDMENT_REQUIRED, "amendment")]
    assert codes(resolve(ObjectionOutcome.REJECTED, department="court")) == [  # type: ignore[arg-type]
        (C.NOT_OWN_DESIGNATION, "department")
    ]
    subject.run(
        ResolveObjection(
            objection_id=oid, outcome=ObjectionOutcome.REJECTED, department="samr", at=at(3)
        )
    )
    assert codes(resolve(ObjectionOutcome.REJECTED)) == [(C.OBJECTION_NOT_OPEN, "objection_id")]  # type: ignore[arg-type]
    unknown = decide(
        subject.state,
        ResolveObjection(
            objection_id=uuid4(), outcome=ObjectionOutcome.UPHELD, department="samr", at=at(3)
        ),
        INDEX,
    )
    assert isinstance(unknown, Rejected)
    assert codes(unknown) == [(C.OBJECTION_NOT_FOUND, "objection_id")]


def test_a_rejection_on_a_regime_that_does_not_pause_keeps_the_end() -> None:
    subject, d = _subject(list_type=KEY_WATCH, level=GENERAL)
    oid = uuid4()
    subject.run(_object(subject, d, objection_id=oid))
    news = accepted(
        subject.state,
        ResolveObjection(
            objection_id=oid, outcome=ObjectionOutcome.REJECTED, department="samr", at=at(3)
        ),
    )
    assert news[0].data.new_effective_until is None  # type: ignore[union-attr]


def test_reminders_name_the_deadline_and_only_for_open_objections() -> None:
    subject, d = _subject()
    oid = uuid4()
    subject.run(_object(subject, d, objection_id=oid))
    news = accepted(
        subject.state,
        RemindObjection(objection_id=oid, stage=ReminderStage.PASSED, department="samr", at=at(40)),
    )
    data = news[0].data
    assert isinstance(data, ObjectionReminder)
    assert data.stage is ReminderStage.PASSED
    subject.run(
        ResolveObjection(
            objection_id=oid, outcome=ObjectionOutcome.REJECTED, department="samr", at=at(41)
        )
    )
    late = rejected(
        subject.state,
        RemindObjection(objection_id=oid, stage=ReminderStage.PASSED, department="samr", at=at(42)),
    )
    assert codes(late) == [(C.OBJECTION_NOT_OPEN, "objection_id")]


# --- repair -----------------------------------------------------------------------------


def _repair(d: object, when: datetime, department: str = "samr", **fields: object) -> GrantRepair:
    return GrantRepair(designation_id=d, department=department, at=when, **fields)  # type: ignore[arg-type]


def test_repair_lockouts_count_the_subjects_listings() -> None:
    subject, first = _subject()
    assert codes(rejected(subject.state, _repair(first, at(100)))) == [
        (C.REPAIR_IN_LOCKOUT, "designation_id")
    ]
    message = rejected(subject.state, _repair(first, at(100))).rejections[0].message
    assert message == "a listing no. 1 at level serious cannot be repaired before 2026-03-03"
    accepted(subject.state, _repair(first, at(365)))
    second = subject.issue(at=at(10), decision_no="D-2", effective_until=at(3000))
    assert codes(rejected(subject.state, _repair(second, at(400)))) == [
        (C.REPAIR_IN_LOCKOUT, "designation_id")
    ]
    accepted(subject.state, _repair(second, at(10 + 700)))


def test_a_revoked_listing_does_not_count_for_lockouts() -> None:
    subject, first = _subject()
    subject.run(RevokeDesignation(designation_id=first, reason="x", department="samr", at=at(1)))  # type: ignore[arg-type]
    second = subject.issue(at=at(2), decision_no="D-2")
    accepted(subject.state, _repair(second, at(2 + 365)))  # a first listing again


def test_an_especially_serious_listing_is_never_repaired() -> None:
    subject, d = _subject(level=ESPECIALLY)
    result = rejected(subject.state, _repair(d, at(700)))
    assert result.rejections[0].message.endswith("is never repaired")


def test_repair_refusals() -> None:
    court, c = _subject(subject_id=resident_id(), list_type=COURT)
    assert codes(rejected(court.state, _repair(c, at(1), "court"))) == [
        (C.REPAIR_NOT_ALLOWED, "designation_id")
    ]
    safety, s = _subject(list_type=SAFETY)
    assert codes(rejected(safety.state, _repair(s, at(1), "mem", measures=()))) == [
        (C.MEASURE_NOT_IN_DESIGNATION, "measures")
    ]
    assert codes(rejected(safety.state, _repair(s, at(1), "mem", measures=(TENDER, WARN)))) == [
        (C.MEASURE_NOT_IN_DESIGNATION, "measures[1]")
    ]
    safety.run(_repair(s, at(1), "mem", measures=(TENDER,)))
    assert codes(rejected(safety.state, _repair(s, at(2), "mem", measures=(TENDER,)))) == [
        (C.MEASURE_NOT_IN_DESIGNATION, "measures[0]")
    ]
    safety.run(_repair(s, at(3), "mem"))
    assert codes(rejected(safety.state, _repair(s, at(4), "mem"))) == [
        (C.NOT_IN_FORCE, "designation_id")
    ]
    assert codes(rejected(EMPTY, _repair(uuid4(), at(1)))) == [
        (C.DESIGNATION_NOT_FOUND, "designation_id")
    ]
    grade, g = _subject(list_type=A_GRADE, level=MINOR)
    allowed = RawLookup(
        MEASURES, [LIST_TYPES[4].model_copy(update={"repair": LIST_TYPES[2].repair})]
    )
    assert codes(rejected(grade.state, _repair(g, at(1), "tax"), allowed)) == [
        (C.REPAIR_NOT_ALLOWED, "designation_id")
    ]
    assert codes(rejected(grade.state, _repair(g, at(1), "tax"), RawLookup(MEASURES, []))) == [
        (C.UNKNOWN_LIST_TYPE, "designation_id")
    ]


def test_a_full_repair_reaches_related_persons_and_a_partial_one_does_not() -> None:
    subject = Subject()
    rep = resident_id(1)
    news = subject.run(
        issue(subject.subject_id, list_type=SAFETY, related=[(rep, RelatedRole.DIRECTOR)])
    )
    d = news[0].data.designation_id
    partial = accepted(subject.state, _repair(d, at(1), "mem", measures=(TENDER,)))
    assert [n.subject for n in partial] == [subject.subject_id]
    full = accepted(subject.state, _repair(d, at(1), "mem", note="ok"))
    assert [n.subject for n in full] == [subject.subject_id, rep]
    assert all(isinstance(n.data, RepairGranted) and n.data.measures is None for n in full)


def test_a_repair_may_be_refused() -> None:
    subject, d = _subject()
    news = accepted(
        subject.state, RefuseRepair(designation_id=d, department="samr", at=at(1), note="no")
    )  # type: ignore[arg-type]
    assert isinstance(news[0].data, RepairRefused)
    assert codes(
        rejected(EMPTY, RefuseRepair(designation_id=uuid4(), department="samr", at=at(1)))
    ) == [(C.DESIGNATION_NOT_FOUND, "designation_id")]


# --- exit ---------------------------------------------------------------------------------


def test_exit_applications_open_in_the_last_working_days_before_the_end() -> None:
    subject, d = _subject(list_type=SAFETY)
    until = subject.state.designation(d).data.effective_until  # type: ignore[union-attr,arg-type]
    assert until is not None
    opens = add_working_days(china_date(until), -30)
    too_early = until - timedelta(days=60)
    result = rejected(subject.state, ApplyExit(designation_id=d, department="mem", at=too_early))  # type: ignore[arg-type]
    assert codes(result) == [(C.EXIT_OUTSIDE_WINDOW, "at")]
    assert result.rejections[0].message == f"an exit may be applied for from {opens.isoformat()}"
    window = rejected(
        subject.state, OpenExitWindow(designation_id=d, department="mem", at=too_early)
    )  # type: ignore[arg-type]
    assert codes(window) == [(C.EXIT_OUTSIDE_WINDOW, "at")]
    opened = accepted(
        subject.state,
        OpenExitWindow(designation_id=d, department="mem", at=until - timedelta(days=40)),
    )  # type: ignore[arg-type]
    assert opened[0].data == ExitWindowOpened(
        designation_id=d, opens_on=opens, effective_until=until
    )  # type: ignore[arg-type]
    subject.run(OpenExitWindow(designation_id=d, department="mem", at=until - timedelta(days=40)))  # type: ignore[arg-type]
    assert status_window(subject) == opens
    approve_first = rejected(
        subject.state, ApproveExit(designation_id=d, department="mem", at=until)
    )  # type: ignore[arg-type]
    assert codes(approve_first) == [(C.EXIT_NOT_APPLIED, "designation_id")]
    subject.run(ApplyExit(designation_id=d, department="mem", at=until - timedelta(days=5)))  # type: ignore[arg-type]
    again = rejected(subject.state, ApplyExit(designation_id=d, department="mem", at=until))  # type: ignore[arg-type]
    assert codes(again) == [(C.EXIT_ALREADY_APPLIED, "designation_id")]
    approved = accepted(
        subject.state, ApproveExit(designation_id=d, department="mem", at=until + timedelta(days=3))
    )  # type: ignore[arg-type]
    assert approved[0].data == ExitApproved(designation_id=d, exited_at=until + timedelta(days=3))  # type: ignore[arg-type]


def status_window(subject: Subject) -> date | None:
    from shared.domain.fold import status

    return status(subject.events, at(500)).designations[0].exit.window_opens_on


def test_a_late_application_is_accepted_the_listing_stayed_in_force() -> None:
    subject, d = _subject(list_type=SAFETY)
    accepted(subject.state, ApplyExit(designation_id=d, department="mem", at=at(500)))  # type: ignore[arg-type]


def test_exit_is_only_for_application_regimes() -> None:
    subject, d = _subject()
    for command in (
        ApplyExit(designation_id=d, department="samr", at=at(700)),  # type: ignore[arg-type]
        OpenExitWindow(designation_id=d, department="samr", at=at(700)),  # type: ignore[arg-type]
    ):
        assert codes(rejected(subject.state, command)) == [
            (C.EXIT_NOT_APPLICABLE, "designation_id")
        ]
    assert codes(
        rejected(EMPTY, ApplyExit(designation_id=uuid4(), department="mem", at=at(1)))
    ) == [(C.DESIGNATION_NOT_FOUND, "designation_id")]
    assert codes(
        rejected(EMPTY, ApproveExit(designation_id=uuid4(), department="mem", at=at(1)))
    ) == [(C.DESIGNATION_NOT_FOUND, "designation_id")]
    assert codes(
        rejected(EMPTY, OpenExitWindow(designation_id=uuid4(), department="mem", at=at(1)))
    ) == [(C.DESIGNATION_NOT_FOUND, "designation_id")]


def test_an_open_ended_application_listing_has_no_window_and_exits_at_once() -> None:
    no_period = LIST_TYPES[2].model_copy(update={"period_days": None})
    lookup = RawLookup(MEASURES, [no_period])
    subject = Subject()
    news = subject.run(issue(subject.subject_id, list_type=SAFETY), lookup)
    d = news[0].data.designation_id
    window = rejected(
        subject.state, OpenExitWindow(designation_id=d, department="mem", at=at(1)), lookup
    )
    assert codes(window) == [(C.EXIT_NOT_APPLICABLE, "designation_id")]
    subject.run(ApplyExit(designation_id=d, department="mem", at=at(1)), lookup)
    approved = accepted(
        subject.state, ApproveExit(designation_id=d, department="mem", at=at(2)), lookup
    )
    assert approved[0].data.exited_at == at(2)  # type: ignore[union-attr]


def test_exit_approval_reaches_related_persons() -> None:
    subject = Subject()
    rep = resident_id(1)
    news = subject.run(
        issue(subject.subject_id, list_type=SAFETY, related=[(rep, RelatedRole.DIRECTOR)])
    )
    d = news[0].data.designation_id
    subject.run(ApplyExit(designation_id=d, department="mem", at=at(500)))
    approved = accepted(subject.state, ApproveExit(designation_id=d, department="mem", at=at(501)))
    assert [n.subject for n in approved] == [subject.subject_id, rep]


# --- the table ----------------------------------------------------------------------------


def test_every_code_has_an_http_status_and_rejected_needs_a_reason() -> None:
    assert {code_status(c) for c in RejectionCode} == {403, 404, 409, 422}
    assert code_status(C.INVALID_IDENTIFIER) == 422
    with pytest.raises(ValueError, match="at least 1"):
        Rejected(rejections=())
    mixed = Rejected(
        rejections=(
            Rejection(code=C.MEASURE_ABOVE_LEVEL, field="f", message="m"),
            Rejection(code=C.NOT_IN_FORCE, field="f", message="m"),
        )
    )
    assert rejected_status(mixed) == 409


def test_repairing_a_revoked_listing_is_refused_not_a_crash() -> None:
    # found by the property tests: the lock-out rank skipped revoked listings
    subject, d = _subject()
    subject.run(RevokeDesignation(designation_id=d, reason="x", department="samr", at=at(1)))  # type: ignore[arg-type]
    assert codes(rejected(subject.state, _repair(d, at(2)))) == [
        (C.NOT_IN_FORCE, "designation_id"),
        (C.REPAIR_IN_LOCKOUT, "designation_id"),
    ]


def test_revoking_an_unknown_designation() -> None:
    result = rejected(
        EMPTY, RevokeDesignation(designation_id=uuid4(), reason="x", department="samr", at=at(1))
    )
    assert codes(result) == [(C.DESIGNATION_NOT_FOUND, "designation_id")]
