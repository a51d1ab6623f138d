"""When a subject's status changes by the clock alone, and what holds between.

A status is a function of the events *and* of the instant (a period ends, a deadline
passes, a pending listing starts). Reads for one subject fold at read time, which is
exact. Reads over many subjects (publicity lists, overdue counts) cannot fold every
subject on every request, so the projection stores *windows*: from which instant to
which instant a designation is in force, on public display, or a task overdue — as
long as no new event arrives (a new event refreshes the subject's rows).

Why this keeps every rule in the domain: the windows are found by *sampling* the
domain's own answers at every instant where they can change by the clock, and reading
them: `designation_clock` (shared.domain.status_view, one designation's part of
`clock_view`), which gives the designation's state, whether it is a suppressed
incentive and its overdue tasks exactly as `render_status` does (same rules, tested
there) without rendering the whole status — rendering one per sampled instant cost a
third of a subject's refresh. The only knowledge here is which instants those
are, taken from the clock rules of shared.domain.fold_state (`state_at`,
`measures_in_force`) and status_view (`overdue`): a designation's start, end of period
and ending; a measure's own `until`; the China day after a task's deadline. Between
two such instants every answer is constant, so the answer at the earlier one holds
until the later one. `tests/unit/test_ledger_timeline.py` checks the windows against
dense sampling of `render_status`.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Generic, TypeVar
from uuid import UUID

from shared.domain.china_time import china_date, start_of_china_day
from shared.domain.fold_state import DesignationRecord, DesignationState, SubjectState, TaskKey
from shared.domain.status_view import designation_clock

K = TypeVar("K", bound=Hashable)
Window = tuple[datetime, datetime | None]
"""[from, until): until None means open-ended."""


def change_instants(state: SubjectState, since: datetime) -> list[datetime]:
    """`since` and every later instant at which the status may change by the clock."""
    instants = {since}
    for record in state.designations.values():
        instants.update(own_instants(record))
    return sorted(t for t in instants if t >= since)


def own_instants(record: DesignationRecord) -> set[datetime]:
    """The instants at which this designation's clock answers may change (its start,
    end of period and ending, its measures' own `until`, the China day after each of
    its tasks' deadlines): `state_at`, `measures_in_force` and the overdue rule
    compare `as_of` with nothing else."""
    data = record.data
    instants = {data.effective_from}
    if data.effective_until is not None:
        instants.add(data.effective_until)
    if record.end is not None:
        instants.add(record.end.at)
    deadlines = set()
    for task in data.tasks:
        if task.until is not None:
            instants.add(task.until)
        deadlines.add(task.deadline)
    # a court designation's 49 tasks share a few deadlines: each day's instant once
    instants.update(start_of_china_day(d + timedelta(days=1)) for d in deadlines)
    return instants


@dataclass(frozen=True)
class Timeline:
    in_force: dict[UUID, list[Window]] = field(default_factory=dict)
    public: dict[UUID, list[Window]] = field(default_factory=dict)
    """In force, meant for publication and not suppressed by a sanction (交叉比对)."""
    overdue: dict[TaskKey, list[Window]] = field(default_factory=dict)


def timeline(state: SubjectState, since: datetime) -> Timeline:
    """The windows from `since` on (the state must hold no event after `since`).

    A sweep over the change instants in time order that asks the domain
    (`designation_clock`) about a designation only at `since` and at its own
    instants — between them its answers are constant (`own_instants`) — and about
    every designation where the subject's joint-sanction flag flips (the cross-check
    moves incentives). The same windows as sampling `clock_view` at every change
    instant (tests/unit/test_ledger_timeline.py compares the two), in time linear in
    the designations instead of their square: a subject listed 278 times
    (10,000 events) took 4.2 s of CPU per refresh that way, 94 % of it."""
    records = list(state.designations.values())
    touched: dict[datetime, list[int]] = {}
    for i, record in enumerate(records):
        for t in own_instants(record):
            if t > since:
                touched.setdefault(t, []).append(i)
    everyone = range(len(records))
    in_force: _Runs[UUID] = _Runs()
    public: _Runs[UUID] = _Runs()
    overdue: list[_Runs[TaskKey]] = [_Runs() for _ in records]
    joint: set[int] = set()
    sanctioned: bool | None = None
    for at in [since, *sorted(touched)]:
        asked = everyone if at == since else touched[at]
        for i in asked:
            if records[i].is_joint_sanction_in_force(at):
                joint.add(i)
            else:
                joint.discard(i)
        if sanctioned is not None and sanctioned != bool(joint):
            asked = everyone
        sanctioned = bool(joint)
        today = china_date(at)
        for i in asked:
            record = records[i]
            clock = designation_clock(state, record, at, sanctioned=sanctioned, today=today)
            on = clock.state is DesignationState.IN_FORCE
            in_force.set(record.designation_id, on, at)
            shown = on and record.data.published and not clock.suppressed
            public.set(record.designation_id, shown, at)
            overdue[i].only(clock.overdue, at)
    tasks: dict[TaskKey, list[Window]] = {}
    for runs in overdue:
        tasks.update(runs.done())
    return Timeline(in_force=in_force.done(), public=public.done(), overdue=tasks)


class _Runs(Generic[K]):
    """Runs of True per key, opened and closed as the sweep goes in time order (the
    last run of a key open-ended)."""

    def __init__(self) -> None:
        self._open: dict[K, datetime] = {}
        self._out: dict[K, list[Window]] = {}

    def set(self, key: K, on: bool, at: datetime) -> None:
        if on and key not in self._open:
            self._open[key] = at
        elif not on and key in self._open:
            self._out.setdefault(key, []).append((self._open.pop(key), at))

    def only(self, keys: tuple[K, ...], at: datetime) -> None:
        """From `at`, `keys` are on and every other key is off."""
        for key in keys:
            self._open.setdefault(key, at)
        for key in [k for k in self._open if k not in keys]:
            self._out.setdefault(key, []).append((self._open.pop(key), at))

    def done(self) -> dict[K, list[Window]]:
        for key, start in self._open.items():
            self._out.setdefault(key, []).append((start, None))
        self._open = {}
        return self._out
