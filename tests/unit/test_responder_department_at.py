"""`DepartmentAt` (services/responder/transitions.py) answers as the per-measure
formulas it replaced: for every lifecycle scenario of the restriction index's tests
(and an amendment that drops measures), every designation, every department of the
catalogue's bundle and one that has none, every measure of the designation (listed
for the department or not), at every instant where something changes and either
side of it — the phase and the next wake-up are the same."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from uuid import UUID

import pytest

from services.responder.fold_memo import FoldMemo
from services.responder.transitions import DepartmentAt, Phase, phase_of, record_at, wake_at
from shared.domain.commands import AmendDesignation, DesignationChanges
from shared.domain.fold_state import DesignationRecord, DesignationState
from shared.domain.vocabulary import Level
from tests.unit.domain_fixtures import FUNDING, LICENCE, MARKET, TENDER, Subject, at, resident_id
from tests.unit.test_restriction_index import SCENARIOS


def _phase_before(record: DesignationRecord, department: str, measure: str, t: datetime) -> Phase:
    """phase_of as it was, one scan of the tasks per measure."""
    listed = any(x.measure == measure and x.department == department for x in record.data.tasks)
    if not listed or measure in record.lifted:
        return Phase.ENDED
    in_force = record.measures_in_force(t)
    if any(x.measure == measure and x.department == department for x in in_force):
        return Phase.ACTIVE
    state = record.state_at(t)
    if state is DesignationState.PENDING:
        return Phase.ACTIVE
    if state is DesignationState.SUSPENDED:
        return Phase.SUSPENDED
    return Phase.ENDED


def _wake_before(
    record: DesignationRecord, department: str, measure: str, t: datetime
) -> datetime | None:
    """wake_at as it was."""
    candidates = [record.data.effective_from, record.data.effective_until]
    if record.end is not None:
        candidates.append(record.end.at)
    candidates.extend(
        x.until for x in record.data.tasks if x.measure == measure and x.department == department
    )
    return min((c for c in candidates if c is not None and c > t), default=None)


def _amended(subject: Subject) -> None:
    _drop_funding(subject, subject.issue(list_type=MARKET, level=Level.SERIOUS))


def _drop_funding(subject: Subject, d: UUID) -> None:
    subject.run(
        AmendDesignation(
            department="samr",
            at=at(1),
            designation_id=d,
            changes=DesignationChanges(measures=(TENDER, LICENCE)),
            reason="fewer measures",
        )
    )


CASES: dict[str, Callable[[Subject], object]] = {**SCENARIOS, "amended: measures dropped": _amended}


def _instants(record: DesignationRecord) -> Iterator[datetime]:
    found = {at(0), at(1), at(2), at(400), at(4000), record.data.effective_from}
    found.update(i for i in (record.data.effective_until,) if i is not None)
    found.update(x.until for x in record.data.tasks if x.until is not None)
    if record.end is not None:
        found.add(record.end.at)
    for i in sorted(found):
        yield from (i - timedelta(microseconds=1), i, i + timedelta(seconds=1))


@pytest.mark.parametrize("name", CASES)
def test_the_same_phase_and_wake_up_as_per_measure(name: str) -> None:
    subject = Subject(resident_id() if "court" in name else None)
    CASES[name](subject)
    compared = 0
    for record in subject.refold().designations.values():
        departments = {x.department for x in record.data.tasks} | {"nobody"}
        measures = {x.measure for x in record.data.tasks} | {"no.such_measure"}
        for t in _instants(record):
            for department in sorted(departments):
                view = DepartmentAt(record, department, t)
                for measure in sorted(measures):
                    expected = _phase_before(record, department, measure, t)
                    assert view.phase(measure) is expected, (name, department, measure, t)
                    assert phase_of(record, department, measure, t) is expected
                    wake = _wake_before(record, department, measure, t)
                    assert view.wake_at(measure) == wake, (name, department, measure, t)
                    assert wake_at(record, department, measure, t) == wake
                    compared += 1
    assert compared > 100


def test_a_changed_designation_at_the_same_instant_is_seen_as_changed() -> None:
    """The views are reused per (record, instant); an event makes a new record, and
    the departments see it even at an instant already planned."""
    subject = Subject()
    d = subject.issue(list_type=MARKET, level=Level.SERIOUS)
    before = subject.refold().designation(d)
    assert before is not None
    assert DepartmentAt(before, "finance", at(2)).phase(FUNDING) is Phase.ACTIVE
    _drop_funding(subject, d)
    after = subject.refold().designation(d)
    assert after is not None
    assert DepartmentAt(after, "finance", at(2)).phase(FUNDING) is Phase.ENDED
    assert DepartmentAt(before, "finance", at(2)).phase(FUNDING) is Phase.ACTIVE


def _designations(count: int) -> list[DesignationRecord]:
    """One designation each of `count` new subjects."""
    records = []
    for _ in range(count):
        subject = Subject()
        d = subject.issue(list_type=MARKET, level=Level.SERIOUS)
        record = subject.state.designation(d)
        assert record is not None
        records.append(record)
    return records


def test_a_pass_of_200_designations_is_still_cached_for_the_next_department() -> None:
    """Departments visit a pass's designations in the same order: with fewer entries
    than a pass (lane_batch 200), least-recently-used eviction missed every time."""
    records = _designations(200)
    views = FoldMemo().views
    first = [record_at(r, at(2), views) for r in records]  # one department's pass
    again = [record_at(r, at(2), views) for r in records]  # the next department's
    assert all(a is b for a, b in zip(first, again, strict=True))


def test_a_designation_is_not_held_long_after_it_was_planned() -> None:
    """The reused views hold their designation's record: held by count alone, 512 of
    them filled the cache over minutes of steady load (the soak's responder +25 %).
    Past the memo's age bound, a view and its record are let go."""
    now = [1_000.0]
    views = FoldMemo(timer=lambda: now[0]).views
    subject = Subject()
    d = subject.issue(list_type=MARKET, level=Level.SERIOUS)
    record = subject.state.designation(d)
    assert record is not None
    first = record_at(record, at(2), views)
    assert record_at(record, at(2), views) is first  # reused while the departments plan it
    now[0] += 31.0
    later = Subject()
    e = later.issue(list_type=MARKET, level=Level.SERIOUS)
    other = later.state.designation(e)
    assert other is not None
    record_at(other, at(2), views)
    assert all(view.record is not record for view in views.values())


def test_views_are_the_memos_own_and_bounded_by_its_count() -> None:
    """No module keeps views: each memo its own, under its count bound (one bound for
    the folds and the views); without a memo a view is made afresh."""
    records = _designations(3)
    memo, other = FoldMemo(capacity=2), FoldMemo(capacity=2)
    kept = record_at(records[0], at(2), memo.views)
    assert record_at(records[0], at(2), other.views) is not kept
    assert record_at(records[0], at(2)) is not kept
    for record in records[1:]:
        record_at(record, at(2), memo.views)
    assert len(memo.views) == 2
    assert all(view.record is not records[0] for view in memo.views.values())
