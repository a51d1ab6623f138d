"""Folding with events decoded already (shared/domain/fold.evolve's `event`, and the
responder's folds.fold_decoded, which the ingest uses for the restriction index):
the same state as decoding each envelope, for every lifecycle scenario of the
restriction index's tests; the event given is the one applied; an event not among
those given is decoded."""

from __future__ import annotations

from uuid import UUID

import pytest

from services.responder.folds import fold_decoded
from shared.domain.events import decode
from shared.domain.fold import evolve, fold
from shared.domain.fold_state import SubjectState
from tests.unit.domain_fixtures import Subject, resident_id
from tests.unit.test_restriction_index import SCENARIOS


@pytest.mark.parametrize("name", SCENARIOS)
def test_the_same_state_as_decoding_each_event(name: str) -> None:
    subject = Subject(resident_id() if "court" in name else None)
    SCENARIOS[name](subject)
    events = subject.events
    assert events
    every = {r.envelope.id: (r.envelope, decode(r.envelope)) for r in events}
    some = dict(list(every.items())[::2])  # the rest decoded by the fold itself
    expected = fold(events, subject.subject_id)
    assert fold_decoded(events, subject.subject_id, every) == expected
    assert fold_decoded(events, subject.subject_id, some) == expected
    assert fold_decoded(events, subject.subject_id) == expected
    state = SubjectState(subject_id=subject.subject_id)
    for r in events:
        state = evolve(state, r, decode(r.envelope))
    assert state == expected


def test_the_event_given_is_the_one_applied() -> None:
    """Two designations of one subject: folding the second's envelope with the first's
    data decoded applies the first's designation, not the envelope's."""
    subject = Subject()
    subject.issue()
    subject.issue()
    first, second = subject.events
    empty = SubjectState(subject_id=subject.subject_id)
    ids = [UUID(str(r.envelope.data["designation_id"])) for r in (first, second)]
    assert ids[0] != ids[1]
    assert set(evolve(empty, second, decode(first.envelope)).designations) == {ids[0]}
    assert set(evolve(empty, second).designations) == {ids[1]}
