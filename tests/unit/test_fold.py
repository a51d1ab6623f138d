"""The fold: every status rule of DOMAIN.md §5, on histories built through decide."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from shared.domain.commands import (
    AmendDesignation,
    ApplyExit,
    ApproveExit,
    DesignationChanges,
    ExpireDesignation,
    FileObjection,
    GrantRepair,
    RemindObjection,
    ResolveObjection,
    RevokeDesignation,
    SupersedeDesignation,
)
from shared.domain.events import (
    DesignationAmended,
    DesignationRevoked,
    MeasureExecuted,
    MeasureFailed,
    MeasureLifted,
    MeasureNotApplicable,
    MeasureResumed,
    MeasureSuspended,
    ObjectionOutcome,
    RaisedBy,
    RelatedRole,
    ReminderStage,
    SubjectIntercepted,
    make_envelope,
)
from shared.domain.fold import Recorded, enforced_by, evolve, fold, status, visible
from shared.domain.fold_handlers import PAUSED_CLOCK_REASON
from shared.domain.fold_state import DesignationState, SubjectState, TaskState
from tests.unit.domain_fixtures import (
    A_GRADE,
    COURT,
    ESPECIALLY,
    FLIGHT,
    FUNDING,
    GENERAL,
    GREEN,
    INSPECT,
    KEY_WATCH,
    LICENCE,
    MINOR,
    SAFETY,
    T0,
    TENDER,
    Subject,
    at,
    feedback,
    issue,
    recorded,
    resident_id,
    uscc,
)

pytestmark = pytest.mark.filterwarnings("ignore::shared.domain.calendar.CalendarFallbackWarning")
S = DesignationState


def only(subject: Subject, when: object = None, **kw: object):  # type: ignore[no-untyped-def]
    """The single designation of the subject's status at `when` (default T0 + 1 day)."""
    result = status(subject.events, when or at(1), **kw)  # type: ignore[arg-type]
    assert len(result.designations) == 1
    return result.designations[0]


def measures(result) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return {(m.measure, m.department) for m in result.measures_in_force}


# --- the basic states ---------------------------------------------------------------


def test_a_designation_not_yet_effective_is_pending() -> None:
    subject = Subject()
    subject.issue(effective_from=at(10))
    result = status(subject.events, at(1))
    assert result.designations[0].state is S.PENDING
    assert not result.restricted
    assert result.measures_in_force == ()


def test_a_designation_in_force_puts_every_task_in_force() -> None:
    subject = Subject()
    d = subject.issue()
    result = status(subject.events, at(1))
    assert result.designations[0].state is S.IN_FORCE
    assert result.restricted
    assert measures(result) == {
        (TENDER, "ggzy"),
        (FUNDING, "finance"),
        (FUNDING, "pbc"),
        (LICENCE, "samr"),
    }
    assert {m.designation_id for m in result.measures_in_force} == {d}
    assert result.subject_kind.value == "organization"  # type: ignore[union-attr]
    assert result.identifiers == (subject.subject_id,)


def test_expiry_is_derived_from_the_clock_and_own_durations_outlive_the_list() -> None:
    subject = Subject()
    d = subject.issue()
    until = subject.state.designation(d).data.effective_until  # type: ignore[union-attr]
    assert until is not None
    before = status(subject.events, until - timedelta(seconds=1))
    assert before.designations[0].state is S.IN_FORCE
    after = status(subject.events, until)
    assert after.designations[0].state is S.EXPIRED
    assert after.designations[0].ended_at is None  # no event yet: the clock says so
    assert measures(after) == {(LICENCE, "samr")}  # the 5-year ban outlives the list
    assert after.measures_in_force[0].until is not None
    assert after.restricted
    ban_end = after.measures_in_force[0].until
    assert not status(subject.events, ban_end).restricted  # type: ignore[arg-type]
    assert all(m.until is None for m in before.measures_in_force)  # as long as the listing


def test_the_expiry_event_records_the_end() -> None:
    subject = Subject()
    d = subject.issue(list_type=KEY_WATCH, level=GENERAL)
    until = subject.state.designation(d).data.effective_until  # type: ignore[union-attr]
    subject.run(ExpireDesignation(designation_id=d, department="samr", at=until))
    view = only(subject, until + timedelta(days=1))  # type: ignore[operator]
    assert view.state is S.EXPIRED
    assert view.ended_at == until


def test_an_open_ended_designation_never_expires_by_itself() -> None:
    subject = Subject(resident_id())
    subject.issue(list_type=COURT)
    assert only(subject, at(3650)).state is S.IN_FORCE


# --- objections ---------------------------------------------------------------------


def test_an_objection_on_a_suspending_regime_suspends_every_measure() -> None:
    subject = Subject()
    d = subject.issue()
    oid = uuid4()
    subject.run(
        FileObjection(
            designation_id=d,
            objection_id=oid,
            raised_by=RaisedBy.SUBJECT,
            grounds="not us",
            department="samr",
            at=at(1),
        )
    )
    result = status(subject.events, at(2))
    view = result.designations[0]
    assert view.state is S.SUSPENDED
    assert view.objection is not None
    assert view.objection.status == "open"
    assert view.objection.objection_id == oid
    assert not result.restricted
    assert result.measures_in_force == ()
    assert not view.objection.overdue
    late = status(subject.events, at(60)).designations[0].objection
    assert late is not None
    assert late.overdue


def test_court_objections_do_not_suspend() -> None:
    subject = Subject(resident_id())
    d = subject.issue(list_type=COURT)
    subject.run(
        FileObjection(
            designation_id=d, raised_by=RaisedBy.SUBJECT, grounds="g", department="court", at=at(1)
        )
    )
    result = status(subject.events, at(2))
    assert result.designations[0].state is S.IN_FORCE
    assert result.designations[0].objection is not None
    assert result.restricted


def test_a_paused_clock_keeps_the_listing_through_its_end_and_moves_the_end() -> None:
    subject = Subject()
    d = subject.issue()  # market: suspends and pauses the clock
    until = subject.state.designation(d).data.effective_until  # type: ignore[union-attr]
    assert until is not None
    filed = until - timedelta(days=10)
    oid = uuid4()
    subject.run(
        FileObjection(
            designation_id=d,
            objection_id=oid,
            raised_by=RaisedBy.SUBJECT,
            grounds="g",
            department="samr",
            at=filed,
        )
    )
    assert only(subject, until + timedelta(days=5)).state is S.SUSPENDED  # paused: no expiry
    resolved = until + timedelta(days=20)
    subject.run(
        ResolveObjection(
            objection_id=oid, outcome=ObjectionOutcome.REJECTED, department="samr", at=resolved
        )
    )
    view = only(subject, resolved)
    assert view.state is S.IN_FORCE
    assert view.effective_until == until + timedelta(days=30)
    assert view.objection is not None
    assert view.objection.status == "rejected"
    assert view.amendments[-1].reason == PAUSED_CLOCK_REASON
    assert view.amendments[-1].changes["effective_until"].old == until.isoformat()
    assert only(subject, until + timedelta(days=30)).state is S.EXPIRED


def test_without_a_paused_clock_the_period_ends_during_the_review() -> None:
    subject = Subject()
    d = subject.issue(list_type=KEY_WATCH, level=GENERAL)
    until = subject.state.designation(d).data.effective_until  # type: ignore[union-attr]
    subject.run(
        FileObjection(
            designation_id=d,
            raised_by=RaisedBy.SUBJECT,
            grounds="g",
            department="samr",
            at=until - timedelta(days=3),  # type: ignore[operator]
        )
    )
    assert only(subject, until - timedelta(days=1)).state is S.SUSPENDED  # type: ignore[operator]
    assert only(subject, until).state is S.EXPIRED


def test_an_upheld_objection_revokes() -> None:
    subject = Subject()
    d = subject.issue()
    oid = uuid4()
    subject.run(
        FileObjection(
            designation_id=d,
            objection_id=oid,
            raised_by=RaisedBy.SUBJECT,
            grounds="g",
            department="samr",
            at=at(1),
        )
    )
    subject.run(
        ResolveObjection(
            objection_id=oid, outcome=ObjectionOutcome.UPHELD, department="samr", at=at(2)
        )
    )
    view = only(subject, at(3))
    assert view.state is S.REVOKED
    assert view.restore_reputation is True
    assert view.objection is not None
    assert view.objection.status == "upheld"


def test_reminders_change_nothing() -> None:
    subject = Subject()
    d = subject.issue()
    oid = uuid4()
    subject.run(
        FileObjection(
            designation_id=d,
            objection_id=oid,
            raised_by=RaisedBy.SUBJECT,
            grounds="g",
            department="samr",
            at=at(1),
        )
    )
    before = subject.state
    subject.run(
        RemindObjection(objection_id=oid, stage=ReminderStage.NEARING, department="samr", at=at(2))
    )
    assert subject.state == before


# --- repair, revocation, supersession, exit -------------------------------------------


def test_a_partial_repair_lifts_only_the_listed_measures() -> None:
    subject = Subject()
    d = subject.issue(list_type=SAFETY)
    subject.run(GrantRepair(designation_id=d, measures=(FUNDING,), department="mem", at=at(1)))
    result = status(subject.events, at(2))
    view = result.designations[0]
    assert view.state is S.IN_FORCE
    assert view.lifted_measures == (FUNDING,)
    assert measures(result) == {(TENDER, "ggzy")}
    assert view.repairs[0].granted
    assert view.repairs[0].measures == (FUNDING,)


def test_lifting_every_measure_one_by_one_is_a_repair() -> None:
    subject = Subject()
    d = subject.issue(list_type=SAFETY)
    subject.run(GrantRepair(designation_id=d, measures=(FUNDING,), department="mem", at=at(1)))
    subject.run(GrantRepair(designation_id=d, measures=(TENDER,), department="mem", at=at(2)))
    assert only(subject, at(3)).state is S.REPAIRED


def test_a_full_repair_lifts_everything_even_own_durations() -> None:
    subject = Subject()
    d = subject.issue(list_type=SAFETY)
    subject.run(GrantRepair(designation_id=d, department="mem", at=at(1), note="fixed"))
    result = status(subject.events, at(2))
    assert result.designations[0].state is S.REPAIRED
    assert result.designations[0].end_reason == "fixed"
    assert not result.restricted


def test_a_revocation_ends_everything_and_overrides_an_earlier_end() -> None:
    subject = Subject()
    d = subject.issue(list_type=KEY_WATCH, level=GENERAL)
    until = subject.state.designation(d).data.effective_until  # type: ignore[union-attr]
    subject.run(ExpireDesignation(designation_id=d, department="samr", at=until))
    later = until + timedelta(days=1)  # type: ignore[operator]
    subject.run(
        RevokeDesignation(
            designation_id=d, reason="wrong", restore_reputation=True, department="samr", at=later
        )
    )
    view = only(subject, later)
    assert view.state is S.REVOKED
    assert view.end_reason == "wrong"


def test_the_first_end_stands_against_later_non_revocations() -> None:
    subject = Subject()
    d = subject.issue(list_type=SAFETY)
    subject.run(GrantRepair(designation_id=d, department="mem", at=at(1)))
    # a cascaded exit (from a parent) arriving after a repair changes nothing
    from shared.domain.events import ExitApproved

    late = make_envelope(
        ExitApproved(designation_id=d, exited_at=at(2)),
        subject=subject.subject_id,
        source="s",
        time=at(2),
    )
    subject.add(recorded(late))
    assert only(subject, at(3)).state is S.REPAIRED
    # and a second revocation keeps the first
    subject.add(
        recorded(
            make_envelope(
                DesignationRevoked(designation_id=d, reason="1st", restore_reputation=False),
                subject=subject.subject_id,
                source="s",
                time=at(4),
            )
        )
    )
    subject.add(
        recorded(
            make_envelope(
                DesignationRevoked(designation_id=d, reason="2nd", restore_reputation=True),
                subject=subject.subject_id,
                source="s",
                time=at(5),
            )
        )
    )
    assert only(subject, at(6)).end_reason == "1st"


def test_a_superseded_listing_keeps_only_measures_with_their_own_duration() -> None:
    subject = Subject()
    old = subject.issue()
    new = subject.issue(at=at(1), decision_no="D-2")
    subject.run(
        SupersedeDesignation(designation_id=old, by_designation_id=new, department="samr", at=at(1))
    )
    result = status(subject.events, at(2))
    first = result.designations[0]
    assert first.state is S.SUPERSEDED
    assert first.superseded_by == new
    in_force = {(m.designation_id, m.measure) for m in result.measures_in_force}
    assert (old, LICENCE) in in_force
    assert (old, TENDER) not in in_force


def test_an_exit_approved_before_the_end_takes_effect_at_the_end() -> None:
    subject = Subject()
    d = subject.issue(list_type=SAFETY)
    until = subject.state.designation(d).data.effective_until  # type: ignore[union-attr]
    assert until is not None
    applied = until - timedelta(days=10)
    subject.run(ApplyExit(designation_id=d, department="mem", at=applied))
    subject.run(ApproveExit(designation_id=d, department="mem", at=applied + timedelta(days=1)))
    view = only(subject, until - timedelta(days=1))
    assert view.state is S.IN_FORCE
    assert view.exit.applied_at == applied
    assert view.exit.exited_at == until
    assert only(subject, until).state is S.EXITED


def test_an_application_regime_does_not_end_by_itself() -> None:
    subject = Subject()
    d = subject.issue(list_type=SAFETY)
    until = subject.state.designation(d).data.effective_until  # type: ignore[union-attr]
    assert only(subject, until + timedelta(days=400)).state is S.IN_FORCE  # type: ignore[operator]


# --- cross-check ----------------------------------------------------------------------


def test_incentives_do_not_take_effect_while_a_sanction_is_in_force() -> None:
    subject = Subject()
    subject.issue(list_type=A_GRADE, level=MINOR)
    result = status(subject.events, at(1))
    assert {m.measure for m in result.incentives_in_force} == {GREEN, INSPECT}
    assert not result.restricted
    assert not result.designations[0].suppressed
    subject.issue(at=at(2))  # a sanction arrives later
    result = status(subject.events, at(3))
    assert result.restricted
    assert result.incentives_in_force == ()
    assert result.designations[0].suppressed
    assert result.designations[0].state is S.IN_FORCE


# --- tasks and feedback ---------------------------------------------------------------


def test_a_task_without_feedback_is_overdue_after_its_deadline_while_in_force() -> None:
    subject = Subject()
    subject.issue()
    on_time = status(subject.events, at(1)).designations[0].tasks[0]
    assert on_time.state is TaskState.PENDING
    assert not on_time.overdue
    late = status(subject.events, at(30)).designations[0].tasks[0]
    assert late.overdue


def test_no_task_is_overdue_while_the_designation_is_suspended() -> None:
    subject = Subject()
    d = subject.issue()
    subject.run(
        FileObjection(
            designation_id=d, raised_by=RaisedBy.SUBJECT, grounds="g", department="samr", at=at(1)
        )
    )
    assert not any(t.overdue for t in status(subject.events, at(30)).designations[0].tasks)


def test_feedback_sets_the_task_state_and_suspension_resumes_to_the_earlier_state() -> None:
    subject = Subject()
    d = subject.issue()
    sid = subject.subject_id
    steps = [
        (MeasureExecuted, TENDER, "ggzy", TaskState.EXECUTED),
        (MeasureSuspended, TENDER, "ggzy", TaskState.SUSPENDED),
        (MeasureSuspended, TENDER, "ggzy", TaskState.SUSPENDED),
        (MeasureResumed, TENDER, "ggzy", TaskState.EXECUTED),
        (MeasureSuspended, FUNDING, "pbc", TaskState.SUSPENDED),
        (MeasureResumed, FUNDING, "pbc", TaskState.PENDING),
        (MeasureNotApplicable, FUNDING, "finance", TaskState.NOT_APPLICABLE),
        (MeasureFailed, LICENCE, "samr", TaskState.FAILED),
        (MeasureLifted, LICENCE, "samr", TaskState.LIFTED),
    ]
    for hour, (model, measure, department, expected) in enumerate(steps, start=1):
        subject.add(feedback(model, sid, d, measure, department, at(hours=hour), note=f"n{hour}"))
        tasks = {
            (t.measure, t.department): t
            for t in status(subject.events, at(1)).designations[0].tasks
        }
        assert tasks[(measure, department)].state is expected
    tender = tasks[(TENDER, "ggzy")]
    assert [f.kind for f in tender.feedback] == ["executed", "suspended", "suspended", "resumed"]
    assert tender.feedback[0].note == "n1"


def test_interceptions_are_counted_without_changing_the_task_state() -> None:
    subject = Subject()
    d = subject.issue()
    sid = subject.subject_id
    for hours in (5, 3):
        subject.add(
            feedback(
                SubjectIntercepted,
                sid,
                d,
                TENDER,
                "ggzy",
                at(hours=hours),
                check_id=uuid4(),
                action="bid_public_tender",
            )
        )
    task = status(subject.events, at(1)).designations[0].tasks[0]
    assert task.interceptions == 2
    assert task.last_intercepted_at == at(hours=5)
    assert task.state is TaskState.PENDING


def test_feedback_before_its_designation_is_held_and_applied_when_it_arrives() -> None:
    subject = Subject()
    d = subject.issue()
    issued = subject.events[0]
    early = feedback(MeasureExecuted, subject.subject_id, d, TENDER, "ggzy", at(hours=1))
    unknown_task = feedback(MeasureExecuted, subject.subject_id, d, "x.y", "ggzy", at(hours=1))
    held = fold([early, unknown_task])
    assert status([early], at(1)).designations == ()
    assert held.task_feedback((d, TENDER, "ggzy")).state is TaskState.EXECUTED
    before = status([early, unknown_task, issued], at(1))
    after = status([issued, early, unknown_task], at(1))
    assert before == after
    assert before.designations[0].tasks[0].state is TaskState.EXECUTED


# --- time -----------------------------------------------------------------------------


def test_as_of_ignores_later_events_and_known_at_ignores_later_records() -> None:
    subject = Subject()
    d = subject.issue()
    subject.run(
        RevokeDesignation(
            designation_id=d, reason="wrong", restore_reputation=True, department="samr", at=at(5)
        )
    )
    assert only(subject, at(4)).state is S.IN_FORCE
    assert only(subject, at(6)).state is S.REVOKED
    # the revocation reached the ledger a day late
    late = Recorded(subject.events[1].envelope, recorded_at=at(6))
    events = [subject.events[0], late]
    assert status(events, at(7), known_at=at(5, 12)).designations[0].state is S.IN_FORCE
    assert status(events, at(7), known_at=at(6)).designations[0].state is S.REVOKED
    assert status(events, at(7), known_at=at(6)).known_at == at(6)
    assert visible(late, at(7))
    assert not visible(late, at(7), at(5))


def test_an_empty_history_gives_an_empty_status_for_the_named_subject() -> None:
    result = status([], T0, subject_id="91350100MA0000000X")
    assert result.subject_id == "91350100MA0000000X"
    assert result.subject_kind is None
    assert not result.restricted
    assert status([], T0).subject_id == ""


# --- fold mechanics -------------------------------------------------------------------


def test_evolve_refuses_events_of_another_subject() -> None:
    subject = Subject()
    subject.issue()
    other = Subject(uscc(2))
    other.issue()
    with pytest.raises(ValueError, match="another subject"):
        evolve(subject.state, other.events[0])


def test_evolve_is_pure_and_incremental_equals_scratch() -> None:
    subject = Subject()
    d = subject.issue()
    subject.run(GrantRepair(designation_id=d, measures=(TENDER,), department="samr", at=at(400)))
    empty = SubjectState()
    evolve(empty, subject.events[0])
    assert empty == SubjectState()
    assert subject.refold() == subject.state
    assert fold(subject.events).subject_id == subject.subject_id


def test_lifecycle_events_of_an_unknown_designation_are_ignored() -> None:
    subject = Subject()
    stray = make_envelope(
        DesignationRevoked(designation_id=uuid4(), reason="?", restore_reputation=False),
        subject=subject.subject_id,
        source="s",
        time=T0,
    )
    assert fold([recorded(stray)]).designations == {}


def test_a_duplicate_issue_is_ignored() -> None:
    subject = Subject()
    subject.issue()
    again = Recorded(subject.events[0].envelope.model_copy(update={"time": at(1)}), at(1))
    assert evolve(subject.state, again) == subject.state


def test_amendments_keep_old_and_new_values_and_all_names() -> None:
    subject = Subject()
    d = subject.issue(name="Old Name Ltd")
    subject.run(
        AmendDesignation(
            designation_id=d,
            changes=DesignationChanges(subject_name="New Name Ltd", level=ESPECIALLY),
            reason="typo",
            department="samr",
            at=at(1),
        )
    )
    result = status(subject.events, at(2))
    view = result.designations[0]
    assert view.subject_name == "New Name Ltd"
    assert view.level is ESPECIALLY
    assert view.amendments[0].changes["subject_name"].old == "Old Name Ltd"
    assert result.names == ("Old Name Ltd", "New Name Ltd")


def test_an_amendment_without_a_name_change_keeps_one_name() -> None:
    subject = Subject()
    d = subject.issue()
    amended = DesignationAmended(
        designation_id=d,
        reason="r",
        changes={"reason": {"old": "serious breach", "new": "x"}},  # type: ignore[dict-item]
    )
    subject.add(
        recorded(make_envelope(amended, subject=subject.subject_id, source="s", time=at(1)))
    )
    assert status(subject.events, at(2)).names == ("Acme Ltd",)


# --- related persons ------------------------------------------------------------------


def test_related_persons_get_linked_designations_with_person_measures() -> None:
    subject = Subject()
    person = resident_id(7)
    news = subject.run(
        issue(subject.subject_id, related=[(person, RelatedRole.LEGAL_REPRESENTATIVE)])
    )
    parent = status(subject.events, at(1)).designations[0]
    assert parent.related[0].subject_id == person
    child_events = [r for r in subject.others if r.envelope.subject == person]
    child = status(child_events, at(1))
    view = child.designations[0]
    assert view.parent_designation_id == news[0].data.designation_id
    assert view.related_role is RelatedRole.LEGAL_REPRESENTATIVE
    assert {t.measure for t in view.tasks} == {FUNDING}
    assert child.subject_kind.value == "person"  # type: ignore[union-attr]


# --- what a department enforces ---------------------------------------------------------


def test_enforced_by_lists_a_departments_measures_from_a_state_or_a_status() -> None:
    subject = Subject()
    d = subject.issue()
    from_state = enforced_by(subject.state, "pbc", at(1))
    assert [(m.measure, m.designation_id) for m in from_state] == [(FUNDING, d)]
    result = status(subject.events, at(1))
    assert enforced_by(result, "pbc", at(1)) == from_state
    assert enforced_by(result, "caac", at(1)) == ()
    with pytest.raises(ValueError, match="another instant"):
        enforced_by(result, "pbc", at(2))


def test_enforced_by_includes_incentives() -> None:
    subject = Subject()
    subject.issue(list_type=A_GRADE, level=MINOR)
    assert [m.measure for m in enforced_by(subject.state, "customs", at(1))] == [INSPECT]


def test_the_status_serialises_to_the_ledger_contract() -> None:
    subject = Subject(resident_id())
    subject.issue(list_type=COURT)
    body = status(subject.events, at(1)).model_dump(mode="json")
    assert {"subject_id", "as_of", "restricted", "designations"} <= set(body)
    assert {"measures_in_force", "incentives_in_force"} <= set(body)
    designation = body["designations"][0]
    assert {
        "designation_id",
        "list_type",
        "polarity",
        "level",
        "state",
        "effective_from",
        "effective_until",
        "objection",
        "tasks",
    } <= set(designation)
    assert designation["state"] == "in_force"
    assert designation["effective_until"] is None
    assert set(body["designations"][0]["tasks"][0]) >= {
        "measure",
        "department",
        "state",
        "deadline",
        "overdue",
    }
    assert set(body["measures_in_force"][0]) >= {"measure", "department", "designation_id"}
    assert {m["measure"] for m in body["measures_in_force"]} == {FLIGHT, "travel.rail"}


def test_a_refused_repair_is_kept_in_the_history() -> None:
    from shared.domain.commands import RefuseRepair

    subject = Subject()
    d = subject.issue()
    subject.run(RefuseRepair(designation_id=d, department="samr", at=at(1), note="lockout"))
    view = only(subject, at(2))
    assert view.state is S.IN_FORCE
    assert [(r.granted, r.note) for r in view.repairs] == [(False, "lockout")]


def test_the_status_message_carries_the_causing_event() -> None:
    from shared.domain.events import decode
    from shared.domain.status_view import StatusChanged, status_envelope

    subject = Subject()
    subject.issue()
    cause = subject.events[0].envelope
    result = status(subject.events, at(1))
    env = status_envelope(result, cause, source="/jsb/ledger", time=at(1))
    assert env.type == "jsb.status.changed"
    assert env.subject == subject.subject_id
    assert env.causationid == str(cause.id)
    data = StatusChanged.model_validate(env.data)
    assert data.caused_by == cause.id
    assert data.restricted
    assert decode(cause).designation_id == result.designations[0].designation_id


def test_the_status_message_from_the_stored_document_is_the_same_message() -> None:
    from shared.domain.commands import RefuseRepair
    from shared.domain.status_view import status_envelope

    subject = Subject()
    d = subject.issue()
    subject.run(RefuseRepair(designation_id=d, department="samr", at=at(2), note="lockout"))
    cause = subject.events[-1].envelope
    result = status(subject.events, at(3))
    dumped = status_envelope(result, cause, source="/jsb/ledger", time=at(3))
    reused = status_envelope(
        result, cause, source="/jsb/ledger", time=at(3), document=result.model_dump(mode="json")
    )
    same_id = {"id": dumped.id}
    assert reused.model_copy(update=same_id).to_json_bytes() == dumped.to_json_bytes()


def test_a_repair_before_an_approved_exit_takes_effect_wins() -> None:
    subject = Subject()
    d = subject.issue(list_type=SAFETY)
    until = subject.state.designation(d).data.effective_until  # type: ignore[union-attr]
    assert until is not None
    subject.run(ApplyExit(designation_id=d, department="mem", at=until - timedelta(days=10)))
    subject.run(ApproveExit(designation_id=d, department="mem", at=until - timedelta(days=9)))
    subject.run(GrantRepair(designation_id=d, department="mem", at=until - timedelta(days=8)))
    assert only(subject, until - timedelta(days=7)).state is S.REPAIRED
    assert only(subject, until + timedelta(days=7)).state is S.REPAIRED
