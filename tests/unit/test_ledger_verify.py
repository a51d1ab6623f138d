"""Recomputing a hash chain names the first broken link."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from services.ledger.store import GENESIS, chain_hash
from services.ledger.verify import verify_chain
from tests.support.ledger_events import Script, feedback, stored
from tests.support.subjects import new_uscc


def _chain() -> tuple[str, list]:  # type: ignore[type-arg]
    s = Script(new_uscc())
    iss = s.issue()
    return s.subject_id, stored([iss, *feedback(iss, only=4)], start_position=100)


def test_an_intact_chain_verifies() -> None:
    subject, events = _chain()
    result = verify_chain(subject, events)
    assert result.ok
    assert result.events == 5
    assert result.head_hash == events[-1].hash
    assert events[0].prev_hash == GENESIS
    assert result.public()["first_broken"] is None


def test_a_tampered_payload_is_named() -> None:
    subject, events = _chain()
    payload = {**events[2].payload, "data": {**events[2].payload["data"], "note": "forged"}}
    events[2] = replace(events[2], payload=payload)
    result = verify_chain(subject, events)
    assert not result.ok
    assert result.first_broken is not None
    assert result.first_broken.position == 102
    assert result.first_broken.stream_version == 3
    assert result.first_broken.reason == "hash_mismatch"


def test_a_rehashed_event_breaks_the_next_link() -> None:
    subject, events = _chain()
    payload = {**events[1].payload, "data": {**events[1].payload["data"], "note": "forged"}}
    forged = chain_hash(events[1].prev_hash, subject, 2, payload)
    events[1] = replace(events[1], payload=payload, hash=forged)
    broken = verify_chain(subject, events).first_broken
    assert broken is not None
    assert (broken.stream_version, broken.reason) == (3, "prev_hash_mismatch")


def test_a_missing_event_is_a_version_gap() -> None:
    subject, events = _chain()
    del events[1]
    broken = verify_chain(subject, events).first_broken
    assert broken is not None
    assert (broken.stream_version, broken.reason) == (3, "version_gap")


@pytest.mark.parametrize("column", ["type", "effective_at", "event_id", "time"])
def test_columns_must_match_the_payload(column: str) -> None:
    subject, events = _chain()
    e = events[0]
    if column == "type":
        events[0] = replace(e, type="jsb.designation.revoked")
    elif column == "effective_at":
        events[0] = replace(e, effective_at=e.effective_at + timedelta(days=1))
    elif column == "event_id":
        events[0] = replace(e, event_id=events[1].event_id)
    else:
        payload = {**e.payload, "time": "not a time"}
        events[0] = replace(e, payload=payload, hash=chain_hash(GENESIS, subject, 1, payload))
        events[1:] = []
    broken = verify_chain(subject, events).first_broken
    assert broken is not None
    assert broken.reason == "column_mismatch"
    assert broken.stream_version == 1
