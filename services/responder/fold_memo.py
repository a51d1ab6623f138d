"""A subject's folded state at a position, remembered for the other departments.

Every department of a process applies the same designation event to the same subject
at the same position, and each pass used to read the subject's stored events back and
fold them (decode and validate an 8 kB court designation) once per department: ~30
times per event for a court list (the profile in docs/benchmarks.md, "Pipeline").
The state after all events up to a position is the same for every department (events
become visible in position order, see the ingest's advisory lock), and states are
immutable, so one department's fold is reused by the next as is.

The views of designations at an instant the departments' planning shares
(transitions.record_at: a court designation's tasks grouped and its measures in force,
once for ~30 departments, not once each) are kept here too, under the same bound: one
object, injected into the passes (`execution.Context.memo`), holds every state the
departments share, and no module keeps any.

Bounded by count (least recently used out) and by age: an entry is dropped
`max_age_s` after it was put. The departments' passes over one event run within
seconds of each other, so an older state serves nobody; a count bound alone lets the
memo fill with states of subjects long passed (up to 1,000 folded states, tens of MB),
which a steady load sees as growth (docs/reliability.md "Soak"). A miss only costs the
fold it would have cost anyway. The views likewise: each holds its designation's
record, and held by count alone (512 then) they raised the soak's responder RSS by
25 % over minutes (110 -> 137 MB) with records of subjects planned long before.

Why a count of 1,000 is enough for the views: the departments apply the same
deliveries in the same order, up to `lane_batch` (200) a pass and three lanes at once,
and with fewer entries than a pass's designations least-recently-used eviction misses
every time (it did with 64: py-spy over the pass bench, docs/benchmarks.md "Pipeline").
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from datetime import datetime
from typing import TypeVar, overload

from cachetools import TTLCache

from services.responder.transitions import RecordAt
from shared.domain.envelope import Envelope
from shared.domain.fold import Recorded
from shared.domain.fold_state import SubjectState

Folded = tuple[SubjectState, datetime | None, Envelope]
"""The state after every event up to the position, the latest event time, and the
event at the position itself (the cause a department applies: read and decoded once
for every department, not once per department)."""


class FoldMemo:
    def __init__(
        self,
        capacity: int = 1000,
        max_age_s: float = 30.0,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self._states: TTLCache[tuple[str, int], Folded] = TTLCache(capacity, max_age_s, timer)
        self.views: Recent[tuple[int, datetime], RecordAt] = Recent(capacity, max_age_s, timer)
        """The designations' views at an instant (transitions.record_at), same bound."""
        self.hits = 0
        self.misses = 0

    def get(self, subject_id: str, position: int) -> Folded | None:
        found = self._states.get((subject_id, position))
        if found is None:
            self.misses += 1
            return None
        self.hits += 1
        return found

    def put(self, subject_id: str, position: int, folded: Folded) -> None:
        self._states[(subject_id, position)] = folded

    def __len__(self) -> int:
        return len(self._states)


K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")


class Recent(MutableMapping[K, V]):
    """A mapping bounded by count and by age like `TTLCache`, the first put out first
    (not the least recently read: the departments read a pass's designations in the
    order they were put), and read by one dict lookup and one clock reading. Why:
    planning reads the views once per department and designation, ~31 times per court
    designation, and a `TTLCache` hit (its timer context, its links) was ~1.2 us of a
    department's ~19 us plan (docs/benchmarks.md, "fourth pass"). Expired entries go
    when something is put, as in a `TTLCache`; reads do not see them."""

    def __init__(self, capacity: int, max_age_s: float, timer: Callable[[], float]) -> None:
        self._items: dict[K, tuple[float, V]] = {}
        self._capacity = capacity
        self._max_age_s = max_age_s
        self._timer = timer

    def __getitem__(self, key: K) -> V:
        put, value = self._items[key]
        if self._timer() - put >= self._max_age_s:
            raise KeyError(key)
        return value

    @overload
    def get(self, key: K, /) -> V | None: ...
    @overload
    def get(self, key: K, default: V, /) -> V: ...
    @overload
    def get(self, key: K, default: T, /) -> V | T: ...
    def get(self, key: K, default: T | None = None, /) -> V | T | None:
        found = self._items.get(key)
        if found is None or self._timer() - found[0] >= self._max_age_s:
            return default
        return found[1]

    def __setitem__(self, key: K, value: V) -> None:
        now = self._timer()
        items = self._items
        items.pop(key, None)  # put again: last out
        items[key] = (now, value)
        old = [k for k, _ in zip(items, range(len(items) - self._capacity), strict=False)]
        for k, (put, _) in items.items():  # oldest first
            if now - put < self._max_age_s:
                break
            old.append(k)
        for k in old:
            items.pop(k, None)

    def __delitem__(self, key: K) -> None:
        del self._items[key]

    def __iter__(self) -> Iterator[K]:
        now = self._timer()
        return iter([k for k, (put, _) in self._items.items() if now - put < self._max_age_s])

    def __len__(self) -> int:
        return sum(1 for _ in self)


def at_last(events: Sequence[Recorded], state: SubjectState) -> tuple[int, Folded] | None:
    """The memo's entry for a subject's last stored event, from the state the caller
    folded over all of `events` (in position order): its position, the state, the
    events' latest time, the event. Why the ingest puts it: it has just folded the
    subject to rewrite its restriction index, and without it the first department to
    apply the event read the subject's events back and folded them again (4.5 % and
    3.1 % of the responder's event loop in the pipeline bench: py-spy,
    docs/benchmarks.md "Pipeline"). Put before the ingest's transaction commits: a
    rolled-back position is never reused (an identity column), so nobody asks for it."""
    if not events or events[-1].position is None:
        return None
    latest = max(e.envelope.time for e in events)
    return events[-1].position, (state, latest, events[-1].envelope)
