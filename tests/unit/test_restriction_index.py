"""The restriction index answers as the fold does, at every instant: each scenario of
the fold's own tests (expiry, own durations, objections that suspend or pause the clock,
repairs, revocation, supersession, exits, amendments) is indexed once, then probed at
every instant where the clock may change the answer, just before and after it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from uuid import UUID, uuid4

import pytest

from services.responder.restriction_index import FAR_PAST, IndexRow, subject_rows
from shared.domain.commands import (
    ApplyExit,
    ApproveExit,
    FileObjection,
    GrantRepair,
    ResolveObjection,
    RevokeDesignation,
    SupersedeDesignation,
)
from shared.domain.events import ObjectionOutcome, RaisedBy
from shared.domain.fold import enforced_by
from shared.domain.fold_state import SubjectState
from shared.domain.vocabulary import Polarity
from tests.unit.domain_fixtures import (
    COURT,
    GENERAL,
    KEY_WATCH,
    SAFETY,
    Subject,
    at,
    resident_id,
)


def _issued(subject: Subject) -> UUID:
    return subject.issue()


def _pending(subject: Subject) -> None:
    subject.issue(effective_from=at(30))


def _until(subject: Subject, d: UUID) -> datetime:
    until = subject.state.designation(d).data.effective_until  # type: ignore[union-attr]
    assert until is not None
    return until


def _objection_pausing_the_clock(subject: Subject) -> None:
    d = subject.issue()
    until = _until(subject, d)
    oid = uuid4()
    subject.run(
        FileObjection(
            designation_id=d,
            objection_id=oid,
            raised_by=RaisedBy.SUBJECT,
            grounds="g",
            department="samr",
            at=until - timedelta(days=10),
        )
    )
    subject.run(
        ResolveObjection(
            objection_id=oid,
            outcome=ObjectionOutcome.REJECTED,
            department="samr",
            at=until + timedelta(days=20),
        )
    )


def _open_objection(subject: Subject) -> None:
    d = subject.issue(list_type=KEY_WATCH, level=GENERAL)
    subject.run(
        FileObjection(
            designation_id=d,
            raised_by=RaisedBy.SUBJECT,
            grounds="g",
            department="samr",
            at=_until(subject, d) - timedelta(days=3),
        )
    )


def _court(subject: Subject) -> None:
    d = subject.issue(list_type=COURT)
    subject.run(
        FileObjection(
            designation_id=d, raised_by=RaisedBy.SUBJECT, grounds="g", department="court", at=at(1)
        )
    )


def _partial_repair(subject: Subject) -> None:
    from tests.unit.domain_fixtures import FUNDING

    d = subject.issue(list_type=SAFETY)
    subject.run(GrantRepair(designation_id=d, measures=(FUNDING,), department="mem", at=at(1)))


def _revoked(subject: Subject) -> None:
    d = subject.issue()
    subject.run(
        RevokeDesignation(
            designation_id=d, reason="wrong", restore_reputation=True, department="samr", at=at(3)
        )
    )


def _superseded(subject: Subject) -> None:
    old = subject.issue()
    new = subject.issue(at=at(1), decision_no="D-2")
    subject.run(
        SupersedeDesignation(designation_id=old, by_designation_id=new, department="samr", at=at(1))
    )


def _exit(subject: Subject) -> None:
    d = subject.issue(list_type=SAFETY)
    applied = _until(subject, d) - timedelta(days=10)
    subject.run(ApplyExit(designation_id=d, department="mem", at=applied))
    subject.run(ApproveExit(designation_id=d, department="mem", at=applied + timedelta(days=1)))


SCENARIOS: dict[str, Callable[[Subject], object]] = {
    "in force, expires, own duration outlives it": _issued,
    "takes effect later": _pending,
    "objection pauses the clock, then rejected": _objection_pausing_the_clock,
    "open objection, period ends during review": _open_objection,
    "court objection changes nothing": _court,
    "partial repair": _partial_repair,
    "revoked": _revoked,
    "superseded": _superseded,
    "exit at the period's end": _exit,
}


def _fold_answer(state: SubjectState, department: str, t: datetime) -> set[tuple[UUID, str]]:
    return {
        (m.designation_id, m.measure)
        for m in enforced_by(state, department, t)
        if m.polarity is Polarity.SANCTION
    }


def _index_answer(rows: list[IndexRow], department: str, t: datetime) -> set[tuple[UUID, str]]:
    return {
        (r.designation_id, r.measure)
        for r in rows
        if r.department == department
        and r.active_from <= t
        and (r.active_until is None or t < r.active_until)
    }


def _probes(rows: list[IndexRow], state: SubjectState) -> Iterator[datetime]:
    instants = {at(0), at(2), at(400), at(4000)}
    for r in rows:
        instants.update(i for i in (r.active_from, r.active_until) if i is not None)
    for record in state.designations.values():
        instants.update(t.until for t in record.data.tasks if t.until is not None)
        for i in (record.data.effective_from, record.data.effective_until):
            if i is not None:
                instants.add(i)
    for i in sorted(instants):
        if i > FAR_PAST:
            yield from (i - timedelta(microseconds=1), i, i + timedelta(seconds=1))


def scenario_rows(name: str) -> tuple[SubjectState, frozenset[str], list[IndexRow]]:
    """A scenario's folded state, the departments its tasks name, and its index rows."""
    subject = Subject(resident_id() if "court" in name else None)
    SCENARIOS[name](subject)
    state = subject.refold()
    assert state.subject_id is not None
    departments = frozenset(t.department for r in state.designations.values() for t in r.data.tasks)
    return state, departments, subject_rows(state, departments)


@pytest.mark.parametrize("name", SCENARIOS)
def test_the_index_answers_as_the_fold_at_every_instant(name: str) -> None:
    state, departments, rows = scenario_rows(name)
    assert rows or name in {"revoked", "open objection, period ends during review"}
    for t in _probes(rows, state):
        for department in departments:
            assert _index_answer(rows, department, t) == _fold_answer(state, department, t), (
                name,
                department,
                t,
            )


def test_only_hosted_departments_are_indexed() -> None:
    subject = Subject()
    subject.issue()
    state = subject.refold()
    assert {r.department for r in subject_rows(state, frozenset({"samr"}))} == {"samr"}
    assert subject_rows(state, frozenset({"nobody"})) == []
