"""Stored events back into the domain: `Recorded` values, the fold, the status at an
instant. Every rule is the domain's (shared.domain.fold); this module only moves rows.

An event that no longer decodes (a type or version this code has dropped) is skipped
and logged rather than stopping every read of its subject: the record keeps it, the
history shows it, `history/verify` still checks it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime

from services.ledger.store import StoredEvent
from shared.domain.envelope import Envelope
from shared.domain.fold import Recorded, evolve, visible
from shared.domain.fold_state import SubjectState
from shared.domain.status_view import SubjectStatus, render_status
from shared.domain.wire import PoisonMessage

log = logging.getLogger(__name__)


def to_recorded(event: StoredEvent) -> Recorded:
    """The event as the fold takes it: the envelope ingest decoded when it was handed
    over with the event (equal to the payload validated again: canonical.stored_form),
    else the payload validated."""
    return Recorded(
        envelope=event.envelope or Envelope.model_validate(event.payload),
        recorded_at=event.recorded_at,
        position=event.position,
    )


def recorded_events(events: Iterable[StoredEvent]) -> list[Recorded]:
    """The events as the fold takes them; a payload that is no envelope any more (only
    tampering does that: `history/verify` names it) is left out."""
    out: list[Recorded] = []
    for event in events:
        try:
            out.append(to_recorded(event))
        except ValueError:
            log.warning("stored event at position %s is not an envelope", event.position)
    return out


def fold_recorded(
    events: Iterable[Recorded], subject_id: str, start: SubjectState | None = None
) -> SubjectState:
    """Fold `events` into `start` (None: the subject's empty state), skipping what no
    longer folds. A left fold: folding a stream's prefix, then the rest into the
    result, equals folding the whole stream (services/ledger/fold_cache.py)."""
    state = SubjectState(subject_id=subject_id) if start is None else start
    for recorded in events:
        try:
            state = evolve(state, recorded)
        except (PoisonMessage, ValueError) as exc:
            log.warning(
                "skipping stored event at position %s in a fold: %s",
                recorded.position,
                getattr(exc, "reason", type(exc).__name__),
            )
    return state


def status_at(
    events: Sequence[StoredEvent],
    subject_id: str,
    as_of: datetime,
    known_at: datetime | None = None,
) -> tuple[SubjectState, SubjectStatus]:
    """What was in force at `as_of`, from the events recorded by `known_at` (the
    domain's `visible` filter, then its fold and rendering)."""
    recorded = recorded_events(events)
    state = fold_recorded((r for r in recorded if visible(r, as_of, known_at)), subject_id)
    return state, render_status(state, as_of, known_at)
