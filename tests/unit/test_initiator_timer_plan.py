"""Which timers the initiator plans for a designation, and which command each runs."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import uuid4

import pytest

from services.initiator.timer_plan import TimerKind, command_for, plan
from shared.domain.calendar import add_working_days
from shared.domain.china_time import china_date, start_of_china_day, utc
from shared.domain.commands import (
    ApplyExit,
    ExpireDesignation,
    FileObjection,
    OpenExitWindow,
    RemindObjection,
    ResolveObjection,
    RevokeDesignation,
)
from shared.domain.event_base import ObjectionOutcome, RaisedBy, ReminderStage
from tests.unit.domain_fixtures import (
    COURT,
    INDEX,
    MARKET,
    SAFETY,
    Subject,
    at,
    resident_id,
)

REMIND = 3


def kinds(subject: Subject, designation_id: object) -> dict[TimerKind, object]:
    record = subject.state.designation(designation_id)  # type: ignore[arg-type]
    assert record is not None
    specs = plan(record, INDEX, remind_before_working_days=REMIND)
    assert all(s.designation_id == designation_id for s in specs)
    return {s.kind: s.due_at for s in specs}


def test_automatic_regime_expires_at_its_end() -> None:
    s = Subject()
    did = s.issue(list_type=MARKET)
    record = s.state.designation(did)
    assert record is not None
    assert kinds(s, did) == {TimerKind.EXPIRE: record.data.effective_until}
    [spec] = plan(record, INDEX, remind_before_working_days=REMIND)
    assert (spec.department, spec.subject_id, spec.target_id) == ("samr", s.subject_id, did)


def test_no_period_no_timer() -> None:
    s = Subject(resident_id(7))
    did = s.issue(list_type=COURT)  # the test court list has no period
    assert kinds(s, did) == {}


def test_application_regime_opens_its_exit_window_instead_of_expiring() -> None:
    s = Subject()
    did = s.issue(list_type=SAFETY)
    record = s.state.designation(did)
    assert record is not None
    assert record.data.effective_until is not None
    opens = add_working_days(china_date(record.data.effective_until), -30)
    due = kinds(s, did)
    assert due == {TimerKind.OPEN_EXIT_WINDOW: utc(start_of_china_day(opens))}
    # Once the window is open (or an exit applied for) there is nothing left to open.
    s.run(OpenExitWindow(department="mem", at=due[TimerKind.OPEN_EXIT_WINDOW], designation_id=did))
    assert kinds(s, did) == {}


def test_exit_applied_before_the_window_event_needs_no_window_timer() -> None:
    s = Subject()
    did = s.issue(list_type=SAFETY, effective_until=at(days=10))
    s.run(ApplyExit(department="mem", at=at(days=1), designation_id=did))
    assert kinds(s, did) == {}


def test_objection_reminders_nearing_and_passed() -> None:
    s = Subject()
    did = s.issue(list_type=MARKET)
    oid = uuid4()
    s.run(
        FileObjection(
            department="samr",
            at=at(hours=1),
            designation_id=did,
            objection_id=oid,
            raised_by=RaisedBy.SUBJECT,
            grounds="wrong",
        )
    )
    record = s.state.designation(did)
    assert record is not None
    objection = record.objection(oid)
    assert objection is not None
    deadline: date = objection.review_deadline
    record_specs = plan(record, INDEX, remind_before_working_days=REMIND)
    reminders = {s.kind: s for s in record_specs if s.target_id == oid}
    assert reminders[TimerKind.OBJECTION_NEARING].due_at == utc(
        start_of_china_day(add_working_days(deadline, -REMIND))
    )
    assert reminders[TimerKind.OBJECTION_PASSED].due_at == utc(
        start_of_china_day(deadline + timedelta(days=1))
    )
    # The market regime pauses the clock during review: no expiry meanwhile.
    assert TimerKind.EXPIRE not in {s.kind for s in record_specs}
    s.run(
        ResolveObjection(
            department="samr", at=at(days=3), objection_id=oid, outcome=ObjectionOutcome.REJECTED
        )
    )
    record = s.state.designation(did)
    assert record is not None
    # Rejected: the end moved by the paused time, and the expiry follows it.
    assert kinds(s, did) == {TimerKind.EXPIRE: record.data.effective_until}
    assert record.data.effective_until is not None


def test_no_nearing_reminder_when_the_deadline_is_too_close() -> None:
    s = Subject()
    did = s.issue(list_type=MARKET)
    oid = uuid4()
    s.run(
        FileObjection(
            department="samr",
            at=at(hours=1),
            designation_id=did,
            objection_id=oid,
            raised_by=RaisedBy.SUBJECT,
            grounds="wrong",
        )
    )
    record = s.state.designation(did)
    assert record is not None
    specs = plan(record, INDEX, remind_before_working_days=15)
    assert {s.kind for s in specs} == {TimerKind.OBJECTION_PASSED}


def test_an_ended_designation_needs_no_timers() -> None:
    s = Subject()
    did = s.issue(list_type=MARKET)
    s.run(RevokeDesignation(department="samr", at=at(days=1), designation_id=did, reason="x"))
    assert kinds(s, did) == {}


@pytest.mark.parametrize(
    ("kind", "expected", "stage"),
    [
        (TimerKind.EXPIRE, ExpireDesignation, None),
        (TimerKind.OPEN_EXIT_WINDOW, OpenExitWindow, None),
        (TimerKind.OBJECTION_NEARING, RemindObjection, ReminderStage.NEARING),
        (TimerKind.OBJECTION_PASSED, RemindObjection, ReminderStage.PASSED),
    ],
)
def test_command_for_each_kind(
    kind: TimerKind, expected: type, stage: ReminderStage | None
) -> None:
    target = uuid4()
    command = command_for(kind, target, "samr", at())
    assert isinstance(command, expected)
    assert command.department == "samr"
    if stage is None:
        assert command.designation_id == target  # type: ignore[union-attr]
    else:
        assert command.objection_id == target  # type: ignore[union-attr]
        assert command.stage is stage  # type: ignore[union-attr]
