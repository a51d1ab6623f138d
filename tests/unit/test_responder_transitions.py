"""The responder's task transitions: what the fold says → what a department reports."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

import pytest

from services.responder.transitions import (
    OPEN,
    Phase,
    Step,
    TaskState,
    end_reason,
    note_for,
    phase_of,
    step,
    wake_at,
)
from shared.domain.commands import (
    AmendDesignation,
    ApplyExit,
    ApproveExit,
    DesignationChanges,
    FileObjection,
    GrantRepair,
    ResolveObjection,
    RevokeDesignation,
    SupersedeDesignation,
)
from shared.domain.events import DesignationExpired, ObjectionOutcome, RaisedBy, make_envelope
from shared.domain.fold import Recorded
from shared.domain.fold_state import DesignationRecord
from shared.domain.vocabulary import Level
from tests.unit.domain_fixtures import (
    COURT,
    FLIGHT,
    FUNDING,
    KEY_WATCH,
    LICENCE,
    MARKET,
    RAIL,
    SAFETY,
    TENDER,
    WARN,
    Subject,
    at,
    resident_id,
    uscc,
)

S, E, P, X, L = (
    TaskState.SUSPENDED,
    TaskState.EXECUTED,
    TaskState.PENDING,
    TaskState.NOT_APPLICABLE,
    TaskState.LIFTED,
)
ACTIVE, SUSPENDED, ENDED = Phase.ACTIVE, Phase.SUSPENDED, Phase.ENDED


@pytest.mark.parametrize(
    ("current", "resume_to", "phase", "mode", "expected"),
    [
        # new tasks
        (None, None, ACTIVE, "auto", Step(E, None, ("executed",))),
        (None, None, ACTIVE, "manual", Step(P, None, ())),
        (None, None, SUSPENDED, "auto", Step(S, P, ("suspended",))),
        (None, None, ENDED, "auto", Step(L, None, ("lifted",))),
        # suspension and resumption
        (E, None, SUSPENDED, "auto", Step(S, E, ("suspended",))),
        (P, None, SUSPENDED, "manual", Step(S, P, ("suspended",))),
        (S, E, SUSPENDED, "auto", Step(S, E, ())),
        (S, E, ACTIVE, "auto", Step(E, None, ("resumed",))),
        (S, P, ACTIVE, "manual", Step(P, None, ("resumed",))),
        (S, P, ACTIVE, "auto", Step(E, None, ("resumed", "executed"))),
        # lifting
        (E, None, ENDED, "auto", Step(L, None, ("lifted",))),
        (P, None, ENDED, "manual", Step(L, None, ("lifted",))),
        (S, E, ENDED, "auto", Step(L, None, ("lifted",))),
        (L, None, ENDED, "auto", Step(L, None, ())),
        # a lifted measure given back by an amendment starts again
        (L, None, ACTIVE, "auto", Step(E, None, ("executed",))),
        (L, None, SUSPENDED, "auto", Step(S, P, ("suspended",))),
        # closed without anything applied: nothing to suspend, resume or lift
        (X, None, SUSPENDED, "auto", Step(X, None, ())),
        (TaskState.FAILED, None, ENDED, "manual", Step(TaskState.FAILED, None, ())),
        # steady states report nothing
        (E, None, ACTIVE, "auto", Step(E, None, ())),
        (P, None, ACTIVE, "manual", Step(P, None, ())),
    ],
)
def test_step(
    current: TaskState | None,
    resume_to: TaskState | None,
    phase: Phase,
    mode: str,
    expected: Step,
) -> None:
    assert step(current, resume_to, phase, mode) == expected  # type: ignore[arg-type]


def record_of(subject: Subject, designation_id: UUID) -> DesignationRecord:
    record = subject.state.designation(designation_id)
    assert record is not None
    return record


class Department:
    """One department following one designation as the lane does: after each event,
    every task is brought to the phase the fold gives; reports are collected."""

    def __init__(self, subject: Subject, designation_id: UUID, code: str, mode: str = "auto"):
        self.subject, self.designation_id, self.code, self.mode = (
            subject,
            designation_id,
            code,
            mode,
        )
        self.tasks: dict[str, tuple[TaskState, TaskState | None]] = {}
        self.reports: list[tuple[str, str]] = []

    def follow(self, as_of: datetime) -> list[tuple[str, str]]:
        record = record_of(self.subject, self.designation_id)
        measures = {t.measure for t in record.data.tasks if t.department == self.code}
        new: list[tuple[str, str]] = []
        for measure in sorted(measures | self.tasks.keys()):
            current, resume = self.tasks.get(measure, (None, None))
            nxt = step(current, resume, phase_of(record, self.code, measure, as_of), self.mode)  # type: ignore[arg-type]
            self.tasks[measure] = (nxt.state, nxt.resume_to)
            new.extend((measure, kind) for kind in nxt.reports)
        self.reports.extend(new)
        return new


def test_a_suspending_objection_suspends_and_a_rejection_resumes() -> None:
    subject = Subject()
    did = subject.issue(list_type=MARKET, level=Level.SERIOUS)
    ggzy = Department(subject, did, "ggzy")
    assert ggzy.follow(at()) == [(TENDER, "executed")]
    assert ggzy.follow(at()) == []  # applying the same state again reports nothing
    objection = FileObjection(
        department="samr", at=at(1), designation_id=did, raised_by=RaisedBy.SUBJECT, grounds="x"
    )
    subject.run(objection)
    assert ggzy.follow(at(1)) == [(TENDER, "suspended")]
    subject.run(
        ResolveObjection(
            department="samr",
            at=at(2),
            objection_id=objection.objection_id,
            outcome=ObjectionOutcome.REJECTED,
        )
    )
    assert ggzy.follow(at(2)) == [(TENDER, "resumed")]
    assert ggzy.tasks[TENDER] == (E, None)


def test_a_court_objection_does_not_suspend() -> None:
    subject = Subject(resident_id(7))
    did = subject.issue(list_type=COURT, level=Level.SERIOUS)
    caac = Department(subject, did, "caac")
    assert caac.follow(at()) == [(FLIGHT, "executed")]
    subject.run(
        FileObjection(
            department="court",
            at=at(1),
            designation_id=did,
            raised_by=RaisedBy.SUBJECT,
            grounds="x",
        )
    )
    assert phase_of(record_of(subject, did), "caac", FLIGHT, at(1)) is Phase.ACTIVE
    assert caac.follow(at(1)) == []


def test_a_partial_repair_lifts_only_the_listed_measures() -> None:
    subject = Subject()
    did = subject.issue(list_type=KEY_WATCH, level=Level.GENERAL)
    samr, ggzy = Department(subject, did, "samr"), Department(subject, did, "ggzy")
    samr.follow(at())
    ggzy.follow(at())
    subject.run(GrantRepair(department="samr", at=at(1), designation_id=did, measures=(WARN,)))
    assert samr.follow(at(1)) == [(WARN, "lifted")]
    assert ggzy.follow(at(1)) == []
    record = record_of(subject, did)
    assert end_reason(record, "samr", WARN, at(1)) == "measure lifted by credit repair"


def test_revocation_lifts_and_notes_why() -> None:
    subject = Subject()
    did = subject.issue(list_type=MARKET, level=Level.SERIOUS)
    finance = Department(subject, did, "finance")
    finance.follow(at())
    subject.run(RevokeDesignation(department="samr", at=at(1), designation_id=did, reason="wrong"))
    assert finance.follow(at(1)) == [(FUNDING, "lifted")]
    note = note_for("lifted", record_of(subject, did), "finance", FUNDING, at(1), "auto")
    assert note == "lifted: designation revoked (wrong)"


def test_expiry_comes_from_the_clock_and_own_durations_outlive_it() -> None:
    subject = Subject()
    did = subject.issue(list_type=MARKET, level=Level.SERIOUS)
    record = record_of(subject, did)
    until = record.data.effective_until
    assert until is not None
    samr, ggzy = Department(subject, did, "samr"), Department(subject, did, "ggzy")
    samr.follow(at())
    ggzy.follow(at())
    # The lane wakes at the period's end without any event.
    assert wake_at(record, "ggzy", TENDER, at()) == until
    after = until + timedelta(seconds=1)
    assert ggzy.follow(after) == [(TENDER, "lifted")]
    assert end_reason(record, "ggzy", TENDER, after) == "designation expired (period over)"
    # The licence ban has a duration of its own: still applied, woken at its end.
    assert samr.follow(after) == []
    own = next(t.until for t in record.data.tasks if t.measure == LICENCE)
    assert own is not None
    assert own > until
    assert wake_at(record, "samr", LICENCE, after) == own
    assert samr.follow(own) == [(LICENCE, "lifted")]
    assert wake_at(record, "samr", LICENCE, own) is None
    # The expiry event later changes nothing more: lifted exactly once.
    event = DesignationExpired(designation_id=did)
    env = make_envelope(event, subject=subject.subject_id, source="/t", time=own)
    subject.add(Recorded(env, own))
    assert ggzy.follow(own) == []
    assert samr.follow(own) == []
    assert ggzy.reports == [(TENDER, "executed"), (TENDER, "lifted")]


def test_an_amendment_that_drops_a_measure_lifts_it() -> None:
    subject = Subject()
    did = subject.issue(list_type=MARKET, level=Level.SERIOUS)
    finance = Department(subject, did, "finance")
    finance.follow(at())
    subject.run(
        AmendDesignation(
            department="samr",
            at=at(1),
            designation_id=did,
            changes=DesignationChanges(measures=(TENDER, LICENCE)),
            reason="fewer measures",
        )
    )
    assert finance.follow(at(1)) == [(FUNDING, "lifted")]
    assert end_reason(record_of(subject, did), "finance", FUNDING, at(1)) == (
        "measure removed by an amendment"
    )


def test_a_pending_designation_is_applied_now_and_blocks_from_its_start() -> None:
    subject = Subject()
    did = subject.issue(list_type=MARKET, level=Level.SERIOUS, effective_from=at(10))
    record = record_of(subject, did)
    assert phase_of(record, "ggzy", TENDER, at()) is Phase.ACTIVE
    assert wake_at(record, "ggzy", TENDER, at()) == at(10)
    assert not record.measures_in_force(at())


def test_supersession_keeps_own_durations_only() -> None:
    subject = Subject()
    did = subject.issue(list_type=KEY_WATCH, level=Level.GENERAL)
    other = subject.issue(list_type=MARKET, level=Level.SERIOUS)
    subject.run(
        SupersedeDesignation(
            department="samr", at=at(1), designation_id=did, by_designation_id=other
        )
    )
    record = record_of(subject, did)
    assert phase_of(record, "ggzy", TENDER, at(1)) is Phase.ENDED
    assert end_reason(record, "ggzy", TENDER, at(1)).startswith("designation superseded")


def test_manual_tasks_wait_and_suspend_from_pending() -> None:
    subject = Subject(resident_id(9))
    did = subject.issue(list_type=COURT, level=Level.SERIOUS)
    rail = Department(subject, did, "rail", mode="manual")
    assert rail.follow(at()) == []
    assert rail.tasks[RAIL] == (P, None)
    assert TaskState.PENDING in OPEN


def test_notes() -> None:
    subject = Subject(uscc(3))
    did = subject.issue(list_type=MARKET, level=Level.SERIOUS)
    record = record_of(subject, did)
    assert note_for("executed", record, "ggzy", TENDER, at(), "auto") == "applied automatically"
    assert note_for("executed", record, "ggzy", TENDER, at(), "manual") == "applied"
    assert "暂不执行" in note_for("suspended", record, "ggzy", TENDER, at(), "auto")
    assert note_for("resumed", record, "ggzy", TENDER, at(), "auto").startswith("objection")


def test_an_approved_exit_lifts_at_the_end_of_the_period() -> None:
    subject = Subject()
    did = subject.issue(list_type=SAFETY, level=Level.SERIOUS)
    record = record_of(subject, did)
    until = record.data.effective_until
    assert until is not None
    ggzy = Department(subject, did, "ggzy")
    ggzy.follow(at())
    applied = until - timedelta(days=10)
    subject.run(ApplyExit(designation_id=did, department="mem", at=applied))
    subject.run(ApproveExit(designation_id=did, department="mem", at=applied + timedelta(days=1)))
    approved = applied + timedelta(days=1)
    # Approved ahead of the end: still applied, and the lane wakes at the end.
    assert ggzy.follow(approved) == []
    assert wake_at(record_of(subject, did), "ggzy", TENDER, approved) == until
    assert ggzy.follow(until) == [(TENDER, "lifted")]
    assert end_reason(record_of(subject, did), "ggzy", TENDER, until).startswith(
        "designation exited"
    )
