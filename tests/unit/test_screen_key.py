"""shared/adapters/screen.py's key check: a valid event under another key than its
subject is refused, naming why; anything else is left to the handler."""

from __future__ import annotations

from aiokafka import ConsumerRecord

from shared.adapters.screen import wrong_key
from tests.support.ledger_workload import consumer_record, court_bulk


def _record(key: bytes, value: bytes) -> ConsumerRecord:
    return consumer_record("jsb.events.v1", 0, 0, key, value)


def test_a_valid_event_under_its_subject_passes_and_under_another_is_refused() -> None:
    event = court_bulk(1).envelopes[0]
    raw = event.to_json_bytes()
    assert wrong_key(_record(event.subject.encode(), raw)) is None
    reason = wrong_key(_record(b"91350100M000100Y43", raw))
    assert reason is not None
    assert "wrong key" in reason


def test_the_last_subject_of_a_key_given_twice_counts_as_in_a_parse() -> None:
    event = court_bulk(1).envelopes[0]
    raw = event.to_json_bytes()
    twice = raw[:-1] + b',"subject":"OTHER"}'
    assert wrong_key(_record(b"OTHER", twice)) is None


def test_what_is_not_an_event_is_left_to_the_handler() -> None:
    for value in (b"not json", b"[1, 2]", b'{"subject": 7}', b'{"subject": "x"}', b""):
        assert wrong_key(_record(b"y", value)) is None
