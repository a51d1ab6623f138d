"""A subject's folded state at a position, remembered for the other departments.

Every department of a process applies the same designation event to the same subject
at the same position, and each pass used to read the subject's stored events back and
fold them (decode and validate an 8 kB court designation) once per department: ~30
times per event for a court list (the profile in docs/benchmarks.md, "Pipeline").
The state after all events up to a position is the same for every department (events
become visible in position order, see the ingest's advisory lock), and states are
immutable, so one department's fold is reused by the next as is.

Bounded (least recently used): a miss only costs the fold it would have cost anyway.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime

from shared.domain.fold_state import SubjectState

Folded = tuple[SubjectState, datetime | None]
"""The state after every event up to the position, and the latest event time."""


class FoldMemo:
    def __init__(self, capacity: int = 1000) -> None:
        self._capacity = capacity
        self._states: OrderedDict[tuple[str, int], Folded] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, subject_id: str, position: int) -> Folded | None:
        found = self._states.get((subject_id, position))
        if found is None:
            self.misses += 1
            return None
        self.hits += 1
        self._states.move_to_end((subject_id, position))
        return found

    def put(self, subject_id: str, position: int, folded: Folded) -> None:
        self._states[(subject_id, position)] = folded
        self._states.move_to_end((subject_id, position))
        while len(self._states) > self._capacity:
            self._states.popitem(last=False)
