"""`clock_view` (shared.domain.status_view) gives, without rendering, the same
clock-driven answers as `render_status` — designation states, suppressed incentives,
overdue tasks — for random histories at many instants (the ledger samples it to find
its windows: services/ledger/timeline.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given

from shared.domain.fold import fold, visible
from shared.domain.fold_state import DesignationState as S
from shared.domain.status_view import clock_view, render_status
from tests.unit.domain_fixtures import A_GRADE, MINOR, Subject, at
from tests.unit.test_fold_properties import SETTINGS, History, histories

pytestmark = pytest.mark.filterwarnings("ignore::shared.domain.calendar.CalendarFallbackWarning")


def _instants(history: History) -> list[datetime]:
    events = history.lifecycle + history.feedback
    out = {history.end, history.end + timedelta(days=4000)}
    for r in events:
        t = r.envelope.time
        out.update({t, t + timedelta(days=1), t + timedelta(days=8), t + timedelta(days=400)})
    return sorted(out)


@SETTINGS
@given(histories())
def test_clock_view_answers_like_the_rendered_status(history: History) -> None:
    events = history.lifecycle + history.feedback
    for as_of in _instants(history):
        state = fold(r for r in events if visible(r, as_of))
        view = clock_view(state, as_of)
        status = render_status(state, as_of)
        assert dict(view.states) == {d.designation_id: d.state for d in status.designations}
        assert view.suppressed == {d.designation_id for d in status.designations if d.suppressed}
        assert view.overdue == {
            (d.designation_id, t.measure, t.department)
            for d in status.designations
            for t in d.tasks
            if t.overdue
        }


def test_an_incentive_suppressed_by_a_sanction_and_overdue_tasks() -> None:
    subject = Subject()
    incentive = subject.issue(list_type=A_GRADE, level=MINOR)
    assert clock_view(subject.state, at(1)).suppressed == frozenset()
    sanction = subject.issue(at=at(2))
    later = clock_view(subject.state, at(60))
    assert later.states == {incentive: S.IN_FORCE, sanction: S.IN_FORCE}
    assert later.suppressed == {incentive}
    every_task = {
        (d, t.measure, t.department)
        for d in (incentive, sanction)
        for t in subject.state.designations[d].data.tasks
    }
    assert later.overdue == every_task  # nobody answered: overdue, suppressed or not
    assert clock_view(subject.state, at(3)).overdue == frozenset()  # before the deadline
