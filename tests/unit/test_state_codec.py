"""The folded state's encoding (shared/domain/state_codec.py): lossless over the fold's
random histories, folding on from a decoded state equals folding from scratch, and
bytes of another version or that do not parse decode to None."""

from __future__ import annotations

import hashlib
from datetime import timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import shared.domain.state_codec as codec
from shared.domain.feedback_events import MeasureExecuted
from shared.domain.fold import Recorded, evolve, fold
from shared.domain.fold_state import SubjectState
from shared.domain.state_codec import decode_state, encode_state, state_tag
from shared.domain.status_view import render_status
from tests.unit.domain_fixtures import T0, Subject, feedback, uscc
from tests.unit.test_fold_properties import SETTINGS, History, _instants, histories, merge

pytestmark = pytest.mark.filterwarnings("ignore::shared.domain.calendar.CalendarFallbackWarning")


def _same(state: SubjectState, history: History) -> None:
    """Decoded equals the original, field for field and in what it renders."""
    data = encode_state(state)
    back = decode_state(data)
    assert back == state
    assert back is not None
    assert list(back.designations) == list(state.designations)  # the order issued
    assert encode_state(back) == data  # offsets, enum members, order: byte for byte
    for at in _instants(history):
        assert (
            render_status(back, at).model_dump_json() == render_status(state, at).model_dump_json()
        )


@SETTINGS
@given(histories(), st.lists(st.booleans(), max_size=60))
def test_decode_of_encode_is_the_state(history: History, picks: list[bool]) -> None:
    _same(fold(merge(history.lifecycle, history.feedback, picks)), history)


@SETTINGS
@given(histories(), st.lists(st.booleans(), max_size=60), st.floats(0, 1, allow_nan=False))
def test_folding_on_from_a_decoded_state_equals_folding_from_scratch(
    history: History, picks: list[bool], cut: float
) -> None:
    events = merge(history.lifecycle, history.feedback, picks)
    k = int(len(events) * cut)
    decoded = decode_state(encode_state(fold(events[:k])))
    assert decoded is not None
    on = _fold_into(decoded, events[k:])
    whole = fold(events)
    assert on == whole
    assert encode_state(on) == encode_state(whole)


def _fold_into(state: SubjectState, events: list[Recorded]) -> SubjectState:
    for event in events:
        state = evolve(state, event)
    return state


def test_times_keep_their_offset() -> None:
    china = timezone(timedelta(hours=8))
    subject = Subject(uscc(7))
    designation = subject.issue(at=T0.astimezone(china))
    record = subject.state.designations[designation]
    task = record.data.tasks[0]
    when = T0.astimezone(china) + timedelta(hours=1)
    subject.add(
        feedback(
            MeasureExecuted, subject.subject_id, designation, task.measure, task.department, when
        )
    )
    state = subject.refold()
    back = decode_state(encode_state(state))
    assert back is not None
    original = next(iter(state.feedback.values())).history[0]
    assert original.at.utcoffset() == timedelta(hours=8)  # what this test is about
    entry = next(iter(back.feedback.values())).history[0]
    assert entry.at.isoformat() == original.at.isoformat()
    assert encode_state(back) == encode_state(state)


def test_the_empty_state() -> None:
    for state in (SubjectState(), SubjectState(subject_id="x")):
        assert decode_state(encode_state(state)) == state


def test_another_versions_bytes_are_ignored() -> None:
    data = encode_state(Subject(uscc(8)).refold())
    body = data[len(state_tag()) :]
    assert decode_state(b"0" * (len(state_tag()) - 1) + b":" + body) is None
    assert decode_state(body) is None


def test_bytes_that_do_not_parse_are_ignored() -> None:
    subject = Subject(uscc(9))
    subject.issue()
    data = encode_state(subject.refold())
    assert decode_state(data[:-10]) is None  # cut short
    assert decode_state(state_tag() + b'[null, [{"data": {}}], []]') is None  # not a designation
    assert decode_state(state_tag() + b'["x", [], [["no-uuid", "m", "d", {}]]]') is None


def test_the_tag_follows_the_fold_revision_and_the_state_shape(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tag = state_tag()
    assert tag == state_tag()  # stable within the process (and derived, not random)
    state_tag.cache_clear()
    monkeypatch.setattr(codec, "FOLD_REVISION", codec.FOLD_REVISION + 1)
    try:
        assert state_tag() != tag
    finally:
        state_tag.cache_clear()
    monkeypatch.undo()
    assert state_tag() == tag


def test_the_hooks_refuse_what_they_do_not_know() -> None:
    with pytest.raises(NotImplementedError):
        codec._enc_hook(object())
    with pytest.raises(NotImplementedError):
        codec._dec_hook(complex, 1)


FOLD_SOURCES = ("fold.py", "fold_handlers.py", "fold_state.py")


def test_the_fold_revision_is_pinned_to_the_fold_sources() -> None:
    """A change of the fold's modules must say whether it changes what events fold to:
    if it does, bump FOLD_REVISION (stored snapshots are then ignored); either way,
    pin the new digest here for the revision."""
    domain = Path(codec.__file__).parent
    digest = hashlib.sha256(b"".join((domain / n).read_bytes() for n in FOLD_SOURCES)).hexdigest()
    assert (codec.FOLD_REVISION, digest) in REVISIONS, (
        f"the fold's sources changed (digest {digest}): if the same events now fold to "
        "another state, bump state_codec.FOLD_REVISION; then add "
        f"({codec.FOLD_REVISION}, '{digest}') to REVISIONS"
    )


REVISIONS = {(1, "eb796cd959844c9fdd18282dc28fb918f47dd2ad8817b87df882d0fbdfb8adfd")}
