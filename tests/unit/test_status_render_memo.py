"""`render_status(memo=...)` (shared.domain.status_view.RenderMemo) renders exactly
what rendering from scratch renders — the same models and the same JSON bytes — for
random histories evolved event by event with one memo carried along, each state
rendered at several instants (the clock moves states, overdue flags and objections),
so that kept views are offered every chance to be stale. And it does keep views: a
designation no event touched is not rendered again."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given

from shared.domain.fold import Recorded, evolve
from shared.domain.fold_state import SubjectState
from shared.domain.status_view import RenderMemo, render_status
from tests.support.ledger_events import T0, Script, feedback
from tests.support.subjects import new_uscc
from tests.unit.test_fold_properties import SETTINGS, History, histories

pytestmark = pytest.mark.filterwarnings("ignore::shared.domain.calendar.CalendarFallbackWarning")

LATER = (timedelta(0), timedelta(days=1), timedelta(days=8), timedelta(days=400))


def _same(state: SubjectState, as_of: datetime, memo: RenderMemo) -> None:
    kept = render_status(state, as_of, memo=memo)
    fresh = render_status(state, as_of)
    assert kept == fresh
    assert kept.model_dump_json() == fresh.model_dump_json()


@SETTINGS
@given(histories())
def test_a_memo_carried_along_renders_what_a_fresh_render_does(history: History) -> None:
    events = sorted(history.lifecycle + history.feedback, key=lambda r: r.envelope.time)
    memo = RenderMemo()
    state = SubjectState()
    for recorded in events:
        state = evolve(state, recorded)
        for later in LATER:
            _same(state, recorded.envelope.time + later, memo)
    _same(state, history.end, memo)


def _at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def test_untouched_designations_are_kept_and_the_clock_is_not() -> None:
    s = Script(new_uscc())
    first = s.issue(at=_at(0))
    second = s.issue(at=_at(1), decision_no="测〔2026〕2号")
    state = SubjectState()
    for env in (first, second):
        state = evolve(state, Recorded(env, env.time))
    memo = RenderMemo()
    _same(state, _at(2), memo)
    assert memo.reused == 0
    _same(state, _at(2) + timedelta(hours=1), memo)  # the same China day: both kept
    assert memo.reused == 2
    [answer] = feedback(second, only=1, at=_at(2))
    state = evolve(state, Recorded(answer, answer.time))
    _same(state, _at(2) + timedelta(hours=2), memo)  # the answered one rendered again
    assert memo.reused == 3
    _same(state, _at(90), memo)  # deadlines passed: overdue flags move, nothing kept
    assert memo.reused == 3


def test_a_sanction_coming_into_force_renders_the_incentive_again() -> None:
    s = Script(new_uscc())
    red = s.issue(list_type="tax.a-grade", level="minor", at=_at(0))
    black = s.issue(
        list_type="market.serious-illegal",
        level="especially_serious",
        at=_at(1),
        effective_from=_at(1) + timedelta(hours=3),
        effective_until=_at(90),
    )
    state = SubjectState()
    for env in (red, black):
        state = evolve(state, Recorded(env, env.time))
    memo = RenderMemo()
    _same(state, _at(1) + timedelta(hours=1), memo)
    _same(state, _at(1) + timedelta(hours=4), memo)  # same day, the sanction now in force
    assert render_status(state, _at(1) + timedelta(hours=4)).designations[0].suppressed


def test_a_listing_coming_into_force_later_that_day_is_rendered_again() -> None:
    s = Script(new_uscc())
    red = s.issue(
        list_type="tax.a-grade",
        level="minor",
        at=_at(0),
        effective_from=_at(0) + timedelta(hours=3),
    )
    state = evolve(SubjectState(), Recorded(red, red.time))
    memo = RenderMemo()
    _same(state, _at(0) + timedelta(hours=1), memo)  # pending
    _same(state, _at(0) + timedelta(hours=4), memo)  # in force, the same China day
    assert memo.reused == 0
