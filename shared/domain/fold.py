"""The fold: a subject's events → its state → its status at an instant.

`evolve(state, recorded)` applies one stored event and returns a new state (pure);
`status(events, as_of, known_at)` answers "what was in force at `as_of`, as the ledger
knew it at `known_at`" (bitemporal: effective time is the envelope's `time`, recorded
time is when the ledger stored it).

Order: lifecycle events of a subject arrive in order (one topic, keyed by subject), and
so do its feedback events; the two topics interleave arbitrarily. The state keeps the
two apart (see fold_state), so every such interleaving folds to the same state.
The fold never reads the catalogue: events carry what it needs, so a replay gives
the same answer after the catalogue changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from functools import reduce

from shared.domain.envelope import Envelope
from shared.domain.event_base import DomainEvent
from shared.domain.events import decode
from shared.domain.fold_handlers import apply
from shared.domain.fold_state import SubjectState
from shared.domain.status_view import MeasureInForce, SubjectStatus, render_status

__all__ = ["Recorded", "enforced_by", "evolve", "fold", "status", "visible"]


@dataclass(frozen=True, slots=True)
class Recorded:
    """An event as the ledger stored it (`position`: its global position, if known)."""

    envelope: Envelope
    recorded_at: datetime
    position: int | None = None


def evolve(
    state: SubjectState, recorded: Recorded, event: DomainEvent | None = None
) -> SubjectState:
    """Apply one event. Raises PoisonEvent for an event that cannot be decoded, and
    ValueError for an event of another subject. `event`: the envelope's data as
    `decode` gives it, when the caller has just decoded it (the responder's ingest
    folds the events it has just read off Kafka), else decoded here."""
    envelope = recorded.envelope
    if state.subject_id is None:
        state = replace(state, subject_id=envelope.subject)
    elif envelope.subject != state.subject_id:
        raise ValueError("an event of another subject cannot be folded into this state")
    return apply(decode(envelope) if event is None else event, state, envelope)


def fold(events: Iterable[Recorded], subject_id: str | None = None) -> SubjectState:
    """Fold events from scratch (the same as evolving them one by one)."""
    return reduce(evolve, events, SubjectState(subject_id=subject_id))


def visible(recorded: Recorded, as_of: datetime, known_at: datetime | None = None) -> bool:
    """Whether an event counts for a status as of `as_of`, known at `known_at`."""
    return recorded.envelope.time <= as_of and (
        known_at is None or recorded.recorded_at <= known_at
    )


def status(
    events: Iterable[Recorded],
    as_of: datetime,
    known_at: datetime | None = None,
    *,
    subject_id: str | None = None,
) -> SubjectStatus:
    """The subject's status at `as_of` from the events recorded by `known_at` (None: all).

    Events later than `as_of` are ignored; `subject_id` names the subject when there
    are no events (an empty status)."""
    state = fold((r for r in events if visible(r, as_of, known_at)), subject_id)
    return render_status(state, as_of, known_at)


def enforced_by(
    source: SubjectStatus | SubjectState, department: str, as_of: datetime
) -> tuple[MeasureInForce, ...]:
    """What `department` enforces on the subject at `as_of` — sanctions, then
    incentives — each with the designation behind it (the responder's restrictions)."""
    if isinstance(source, SubjectState):
        source = render_status(source, as_of)
    elif source.as_of != as_of:
        raise ValueError("this status is as of another instant: fold again for that one")
    return tuple(
        m
        for m in (*source.measures_in_force, *source.incentives_in_force)
        if m.department == department
    )
