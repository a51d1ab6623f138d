"""When a subject's status changes by the clock alone, and what holds between.

A status is a function of the events *and* of the instant (a period ends, a deadline
passes, a pending listing starts). Reads for one subject fold at read time, which is
exact. Reads over many subjects (publicity lists, overdue counts) cannot fold every
subject on every request, so the projection stores *windows*: from which instant to
which instant a designation is in force, on public display, or a task overdue — as
long as no new event arrives (a new event refreshes the subject's rows).

Why this keeps every rule in the domain: the windows are found by *sampling* the
domain's own answers at every instant where they can change by the clock, and reading
them: `clock_view` (shared.domain.status_view), which gives the designation states,
suppressed incentives and overdue tasks exactly as `render_status` does (same rules,
tested there) without rendering the whole status — rendering one per sampled instant
cost a third of a subject's refresh. The only knowledge here is which instants those
are, taken from the clock rules of shared.domain.fold_state (`state_at`,
`measures_in_force`) and status_view (`overdue`): a designation's start, end of period
and ending; a measure's own `until`; the China day after a task's deadline. Between
two such instants every answer is constant, so the answer at the earlier one holds
until the later one. `tests/unit/test_ledger_timeline.py` checks the windows against
dense sampling of `render_status`.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar
from uuid import UUID

from shared.domain.china_time import start_of_china_day
from shared.domain.fold_state import DesignationRecord, DesignationState, SubjectState, TaskKey
from shared.domain.status_view import ClockView, clock_view

K = TypeVar("K", bound=Hashable)
Window = tuple[datetime, datetime | None]
"""[from, until): until None means open-ended."""


def change_instants(state: SubjectState, since: datetime) -> list[datetime]:
    """`since` and every later instant at which the status may change by the clock."""
    instants = {since}
    for record in state.designations.values():
        data = record.data
        instants.add(data.effective_from)
        if data.effective_until is not None:
            instants.add(data.effective_until)
        if record.end is not None:
            instants.add(record.end.at)
        for task in data.tasks:
            if task.until is not None:
                instants.add(task.until)
            instants.add(start_of_china_day(task.deadline + timedelta(days=1)))
    return sorted(t for t in instants if t >= since)


@dataclass(frozen=True)
class Timeline:
    in_force: dict[UUID, list[Window]] = field(default_factory=dict)
    public: dict[UUID, list[Window]] = field(default_factory=dict)
    """In force, meant for publication and not suppressed by a sanction (交叉比对)."""
    overdue: dict[TaskKey, list[Window]] = field(default_factory=dict)


def timeline(state: SubjectState, since: datetime) -> Timeline:
    """The windows from `since` on (the state must hold no event after `since`)."""
    samples = [(t, clock_view(state, t)) for t in change_instants(state, since)]
    records = state.designations
    # Only the tasks overdue at some sampled instant can have a window: the others (a
    # court debtor's answered tasks) are left out of the runs instead of being asked
    # about at every instant (process CPU of `timeline` for a court debtor with 20 /
    # 45 of 49 tasks answered: 0.9x / 0.8x). Runs are tracked by the task's index: a
    # TaskKey hashes a UUID in Python each time.
    tasks = list(dict.fromkeys(key for _, view in samples for key in view.overdue))
    index = {key: i for i, key in enumerate(tasks)}
    overdue = _windows(samples, lambda view: _flags(len(tasks), view.overdue, index))
    return Timeline(
        in_force=_windows(samples, _in_force),
        public=_windows(samples, lambda view: _public(view, records)),
        overdue={tasks[i]: runs for i, runs in overdue.items()},
    )


def _flags(
    count: int, overdue: frozenset[TaskKey], index: Mapping[TaskKey, int]
) -> Iterable[tuple[int, bool]]:
    """(task index, overdue at this sample?) for each of the `count` tasks indexed."""
    late = {index[key] for key in overdue}
    return ((i, i in late) for i in range(count))


def _in_force(view: ClockView) -> Iterable[tuple[UUID, bool]]:
    for designation_id, state in view.states.items():
        yield designation_id, state is DesignationState.IN_FORCE


def _public(
    view: ClockView, records: Mapping[UUID, DesignationRecord]
) -> Iterable[tuple[UUID, bool]]:
    for designation_id, state in view.states.items():
        yield (
            designation_id,
            state is DesignationState.IN_FORCE
            and records[designation_id].data.published
            and designation_id not in view.suppressed,
        )


def _windows(
    samples: list[tuple[datetime, ClockView]],
    flags: Callable[[ClockView], Iterable[tuple[K, bool]]],
) -> dict[K, list[Window]]:
    """Runs of True per key over the sampled instants (the last run open-ended)."""
    out: dict[K, list[Window]] = {}
    open_since: dict[K, datetime] = {}
    for at, view in samples:
        seen: set[K] = set()
        for key, on in flags(view):
            seen.add(key)
            if on and key not in open_since:
                open_since[key] = at
            elif not on and key in open_since:
                out.setdefault(key, []).append((open_since.pop(key), at))
        for key in [k for k in open_since if k not in seen]:
            out.setdefault(key, []).append((open_since.pop(key), at))
    for key, start in open_since.items():
        out.setdefault(key, []).append((start, None))
    return out
