"""The events handed from ingest to the projector (services/ledger/pending.py): used
only along the hash chain back from the committed position a queue row names, never
a rolled-back copy as a head, and bounded."""

from __future__ import annotations

from dataclasses import replace

from services.ledger.pending import Pending
from services.ledger.store import StoredEvent
from tests.support.ledger_events import Script, feedback, stored
from tests.support.subjects import new_resident_id


def _stream(start_position: int = 1) -> list[StoredEvent]:
    s = Script(new_resident_id())
    issued = s.issue(list_type="court.dishonest-debtor", level="especially_serious")
    return stored([issued, *feedback(issued, only=9)], start_position=start_position)


def test_the_chain_ends_at_the_committed_position_and_goes_back_by_hash() -> None:
    events = _stream()
    pending = Pending()
    pending.add(events[:4])
    pending.add(events[4:])
    subject = events[0].stream
    assert pending.chains({subject: events[6].position}) == events[:7]
    assert pending.chains({subject: 999}) == []  # not held: read back
    # the chain stops after what the fold cache holds already
    known = {(subject, events[2].stream_version, events[2].hash)}
    chain = pending.chains({subject: events[6].position}, lambda *k: k in known)
    assert chain == events[3:7]


def test_a_rolled_back_copy_is_never_taken_for_the_committed_head() -> None:
    events = _stream()
    subject = events[0].stream
    pending = Pending()
    pending.add(events[:5])
    rolled_back = [replace(e, position=e.position + 100) for e in events[5:]]
    pending.add(rolled_back)  # its batch rolled back: positions no committed event has
    retried = [replace(e, position=e.position + 200) for e in events[5:]]
    pending.add(retried)  # the same payloads again, committed at new positions
    chain = pending.chains({subject: retried[-1].position})
    assert chain[-1] == retried[-1]
    assert [e.hash for e in chain] == [e.hash for e in events]
    assert pending.chains({subject: events[4].position}) == events[:5]


def test_projected_events_are_dropped_and_the_bound_holds() -> None:
    a, b = _stream(), _stream(start_position=100)
    pending = Pending(max_events=15)
    pending.add(a)
    pending.projected({a[0].stream: a[5].position})
    assert pending.events == len(a) - 6
    assert pending.chains({a[0].stream: a[-1].position}) == a[6:]
    pending.add(b)  # 4 + 10 = 14 events: within the bound
    assert len(pending) == 2
    pending.add([replace(e, position=e.position + 50) for e in b[:2]])  # 16: a goes
    assert len(pending) == 1
    assert pending.chains({a[0].stream: a[-1].position}) == []
    assert pending.events == 12
