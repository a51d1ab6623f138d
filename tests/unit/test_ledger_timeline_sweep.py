"""The timeline's sweep (services/ledger/timeline.py: the domain asked about a
designation only at its own instants, and about every designation where the
subject's joint-sanction flag flips) gives the very windows of sampling the domain's
whole `clock_view` at every change instant — the algorithm it replaced, kept here as
the oracle — for random histories at random instants of them, and for a subject
listed many times."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from datetime import datetime
from typing import TypeVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.ledger_subject import one_subject
from services.ledger.replay import fold_recorded, recorded_events
from services.ledger.timeline import Timeline, Window, change_instants, timeline
from shared.domain.fold import fold, visible
from shared.domain.fold_state import DesignationState, SubjectState
from shared.domain.status_view import ClockView, clock_view
from tests.support.ledger_events import stored
from tests.unit.test_fold_properties import SETTINGS, History, histories

pytestmark = pytest.mark.filterwarnings("ignore::shared.domain.calendar.CalendarFallbackWarning")

K = TypeVar("K", bound=Hashable)


def sampled(state: SubjectState, since: datetime) -> Timeline:
    """`clock_view` at every change instant, its answers read off in runs."""
    samples = [(t, clock_view(state, t)) for t in change_instants(state, since)]
    records = state.designations
    return Timeline(
        in_force=_runs(
            samples, lambda v: ((d, s is DesignationState.IN_FORCE) for d, s in v.states.items())
        ),
        public=_runs(
            samples,
            lambda v: (
                (
                    d,
                    s is DesignationState.IN_FORCE
                    and records[d].data.published
                    and d not in v.suppressed,
                )
                for d, s in v.states.items()
            ),
        ),
        overdue=_runs(
            samples,
            lambda v: (
                (key, key in v.overdue) for key in {k for _, view in samples for k in view.overdue}
            ),
        ),
    )


def _runs(
    samples: list[tuple[datetime, ClockView]],
    flags: Callable[[ClockView], Iterable[tuple[K, bool]]],
) -> dict[K, list[Window]]:
    out: dict[K, list[Window]] = {}
    open_since: dict[K, datetime] = {}
    for at, view in samples:
        for key, on in flags(view):
            if on and key not in open_since:
                open_since[key] = at
            elif not on and key in open_since:
                out.setdefault(key, []).append((open_since.pop(key), at))
    for key, start in open_since.items():
        out.setdefault(key, []).append((start, None))
    return out


def _same(state: SubjectState, since: datetime) -> None:
    swept, oracle = timeline(state, since), sampled(state, since)
    assert swept.in_force == oracle.in_force
    assert swept.public == oracle.public
    assert swept.overdue == oracle.overdue


@SETTINGS
@given(histories(), st.floats(0, 1))
def test_the_sweep_gives_the_windows_of_sampling_every_instant(
    history: History, cut: float
) -> None:
    events = sorted(history.lifecycle + history.feedback, key=lambda r: r.envelope.time)
    as_of = events[int(cut * (len(events) - 1))].envelope.time if events else history.end
    for since in (as_of, history.end):
        _same(fold(r for r in events if visible(r, since)), since)


def test_a_subject_listed_many_times() -> None:
    events = stored(one_subject(1_500))
    state = fold_recorded(recorded_events(events), events[0].stream)
    since = max(e.effective_at for e in events)
    _same(state, since)
    assert any(timeline(state, since).overdue.values())
