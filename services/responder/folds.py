"""Each subject's folded state during one department pass, moved forward event by
event (the department applies an event as the subject was when it happened)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from uuid import UUID

from shared.domain.envelope import Envelope
from shared.domain.event_base import DomainEvent
from shared.domain.fold import Recorded, evolve
from shared.domain.fold_state import SubjectState

Decoded = Mapping[UUID, tuple[Envelope, DomainEvent]]
"""Events the ingest has just read off Kafka, by id: the envelope and its data as it
decoded them (`decode_bytes`), for the restriction index's fold of the same batch."""

log = logging.getLogger(__name__)


class SubjectFolds:
    """Each subject's state, evolved forward only as far as the event being applied
    (the department sees the subject as it was when that event happened)."""

    def __init__(self, history: Mapping[str, Sequence[Recorded]]) -> None:
        self._events: dict[str, Sequence[Recorded]] = {}
        self._next: dict[str, int] = {}
        self._states: dict[str, SubjectState] = {}
        self._latest: dict[str, datetime] = {}
        self.include(history)

    @property
    def subjects(self) -> set[str]:
        return set(self._events)

    def include(self, history: Mapping[str, Sequence[Recorded]]) -> None:
        """Add subjects not folded yet."""
        for subject_id, events in history.items():
            if subject_id not in self._events:
                self._events[subject_id] = events
                self._next[subject_id] = 0
                self._states[subject_id] = SubjectState(subject_id=subject_id)

    def event_at(self, subject_id: str, position: int) -> Envelope | None:
        """The subject's stored event at `position` (None: not readable, so left out
        of its history)."""
        for recorded in self._events[subject_id]:
            if recorded.position == position:
                return recorded.envelope
        return None

    def up_to(self, subject_id: str, position: int) -> tuple[SubjectState, datetime | None]:
        events, i, state = (
            self._events[subject_id],
            self._next[subject_id],
            self._states[subject_id],
        )
        while i < len(events) and (events[i].position or 0) <= position:
            try:
                state = evolve(state, events[i])
            except ValueError:  # stored, so decodable; an inconsistent one is skipped
                log.exception("event %s cannot be folded; skipped", events[i].envelope.id)
            latest = self._latest.get(subject_id)
            t = events[i].envelope.time
            self._latest[subject_id] = t if latest is None or t > latest else latest
            i += 1
        self._next[subject_id], self._states[subject_id] = i, state
        return state, self._latest.get(subject_id)


def fold_decoded(
    events: Iterable[Recorded], subject_id: str, decoded: Decoded | None = None
) -> SubjectState:
    """`fold`, taking each event's data from `decoded` when there (the ingest's fold for
    the restriction index: the batch's events were decoded a moment before, and
    decoding them again — validating a court designation's 48 tasks — was ~17 % of the
    ingest's CPU, docs/benchmarks.md "fourth pass"), else decoding it."""
    state = SubjectState(subject_id=subject_id)
    known = decoded or {}
    for recorded in events:
        found = known.get(recorded.envelope.id)
        state = evolve(state, recorded, None if found is None else found[1])
    return state
