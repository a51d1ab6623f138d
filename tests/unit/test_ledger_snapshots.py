"""Snapshots of a subject's fold every K events (services/ledger/snapshots.py): each
equals the fold from scratch of its prefix, and a status read from a snapshot equals
the status folded from the whole stream, at any as_of / known_at."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.ledger_subject import one_subject
from services.ledger.access import status_for, status_json
from services.ledger.memory import MemoryEventStore
from services.ledger.replay import fold_recorded, recorded_events, status_at
from services.ledger.snapshots import Snapshot, Snapshots, fold_visible, state_at
from shared.domain.envelope import Envelope
from shared.domain.status_view import render_status
from tests.support.ledger_events import T0, Script
from tests.support.subjects import new_uscc
from tests.unit.domain_fixtures import Subject, resident_id
from tests.unit.test_ledger_status_json import CALLERS
from tests.unit.test_restriction_index import SCENARIOS

EVERY = 10


async def _store(events: int) -> tuple[MemoryEventStore, str]:
    store = MemoryEventStore()
    envelopes = one_subject(events)
    async with store.begin() as tx:
        await tx.append([(env, None) for env in envelopes])
    return store, envelopes[0].subject


async def test_every_snapshot_equals_the_fold_of_its_prefix_from_scratch() -> None:
    store, subject = await _store(95)
    events = await store.stream(subject)
    now = datetime.now(UTC)
    snapshots = Snapshots(every=EVERY, capacity=100)
    fold_visible(subject, events, now, now, None, snapshots)
    assert len(snapshots) == 9  # at 10, 20, ..., 90
    for version in range(EVERY, 95, EVERY):
        snap = snapshots._entries[(subject, version)]
        prefix = events[:version]
        assert snap.hash == prefix[-1].hash
        assert snap.state == fold_recorded(recorded_events(prefix), subject)
        assert snap.latest_effective == max(e.effective_at for e in prefix)


async def test_a_status_from_a_snapshot_equals_the_status_from_scratch() -> None:
    store, subject = await _store(95)
    events = await store.stream(subject)
    snapshots = Snapshots(every=EVERY, capacity=100)
    now = datetime.now(UTC)
    await state_at(store, subject, now, now, snapshots)  # fills the snapshots
    instants = [now, *(e.effective_at + timedelta(minutes=1) for e in events[::19])]
    for as_of in instants:
        for known_at in (now, events[40].recorded_at):
            _, expected = status_at(events, subject, as_of, known_at)
            state = await state_at(store, subject, as_of, known_at, snapshots)
            assert render_status(state, as_of, known_at) == expected
            # as the route renders it: with the stream's memo of the last read's views
            assert render_status(state, as_of, known_at, snapshots.memo(subject)) == expected


async def test_a_snapshot_the_store_does_not_confirm_is_dropped() -> None:
    store, subject = await _store(25)
    events = await store.stream(subject)
    now = datetime.now(UTC)
    snapshots = Snapshots(every=EVERY, capacity=100)
    wrong = fold_recorded(recorded_events(events[:3]), subject)
    snapshots.put(subject, Snapshot(20, "not-the-hash", wrong, events[0].effective_at, now))
    state = await state_at(store, subject, now, now, snapshots)
    assert state == fold_recorded(recorded_events(events), subject)
    assert (subject, 20) not in snapshots._entries or snapshots._entries[
        (subject, 20)
    ].hash == events[19].hash


def test_snapshots_are_bounded_least_recently_used_out() -> None:
    snapshots = Snapshots(every=EVERY, capacity=2)
    t = datetime(2026, 1, 1, tzinfo=UTC)
    state = fold_recorded([], "S")
    for version in (10, 20, 30):
        snapshots.put("S", Snapshot(version, str(version), state, t, t))
    assert len(snapshots) == 2
    assert [k[1] for k in snapshots._entries] == [20, 30]
    assert snapshots.latest_usable("S", t, t) is not None
    assert snapshots.latest_usable("S", t - timedelta(seconds=1), t) is None


# --- equivalence with a fold from the start, over the domain tests' scenarios -------


def _scenario(name: str, make: Callable[[Subject], object]) -> list[Envelope]:
    subject = Subject(resident_id() if "court" in name else None)
    make(subject)
    return [r.envelope for r in subject.events]


LONG = "a company listed again and again (the bench's subject)"
STREAMS: dict[str, list[Envelope]] = {
    **{name: _scenario(name, make) for name, make in SCENARIOS.items()},
    LONG: one_subject(60),
}


async def _arrived(envelopes: Sequence[Envelope], cuts: Sequence[int]) -> MemoryEventStore:
    """The envelopes appended in that order, one transaction per part between `cuts`
    (so that `recorded_at` moves on between parts)."""
    store = MemoryEventStore()
    bounds = [0, *sorted(set(cuts)), len(envelopes)]
    for start, end in itertools.pairwise(bounds):
        async with store.begin() as tx:
            await tx.append([(env, None) for env in envelopes[start:end]])
    return store


@pytest.mark.parametrize("name", STREAMS)
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_snapshots_give_the_status_of_a_fold_from_the_start(name: str, data: st.DataObject) -> None:
    """Any arrival order, any K, any earlier reads (which leave snapshots behind),
    then a read at random cut points of effective and recorded time: the status read
    through the snapshots is the status of the visible events folded from the start,
    and so is its JSON for every kind of caller."""
    envelopes = data.draw(st.permutations(STREAMS[name])) if name != LONG else STREAMS[name]
    n = len(envelopes)
    cuts = data.draw(st.lists(st.integers(0, n), max_size=5))
    store = asyncio.run(_arrived(envelopes, cuts))
    events = asyncio.run(store.stream(envelopes[0].subject))
    subject = events[0].stream
    now = datetime.now(UTC)
    effective = sorted({e.effective_at for e in events})
    recorded = sorted({e.recorded_at for e in events})
    instants = st.one_of(
        st.sampled_from(effective).flatmap(
            lambda t: st.sampled_from([t - timedelta(microseconds=1), t, t + timedelta(hours=1)])
        ),
        st.just(now + timedelta(days=3650)),
    )
    known = st.one_of(st.sampled_from(recorded), st.just(now))
    snapshots = Snapshots(every=data.draw(st.integers(1, 4)), capacity=data.draw(st.integers(1, 9)))
    for _ in range(data.draw(st.integers(0, 3))):
        earlier, earlier_known = data.draw(instants), data.draw(known)
        state = asyncio.run(state_at(store, subject, earlier, earlier_known, snapshots))
        render_status(state, earlier, earlier_known, snapshots.memo(subject))  # as the route
    as_of, known_at = data.draw(instants), data.draw(known)
    _, expected = status_at(events, subject, as_of, known_at)
    state = asyncio.run(state_at(store, subject, as_of, known_at, snapshots))
    got = render_status(state, as_of, known_at, snapshots.memo(subject))
    assert got == expected
    for caller in CALLERS:
        assert status_json(caller, got) == orjson.dumps(status_for(caller, expected)), caller


async def test_an_event_left_out_ends_the_prefix_snapshots_are_taken_of() -> None:
    """The first event of the stream is effective after the second: a read between
    the two leaves it out (a gap in the versions `visible_stream` returns), so it
    takes no snapshot of the second (that would lack the first for every later read)."""
    script = Script(new_uscc())
    late = script.issue(at=T0 + timedelta(days=9), decision_no="税〔2026〕2号")
    early = script.issue(at=T0, decision_no="税〔2026〕1号")
    store = await _arrived([late, early], [])
    events = await store.stream(early.subject)
    snapshots = Snapshots(every=1, capacity=10)
    between, after = T0 + timedelta(days=5), T0 + timedelta(days=20)
    now = datetime.now(UTC)
    await state_at(store, early.subject, between, now, snapshots)
    assert len(snapshots) == 0
    state = await state_at(store, early.subject, after, now, snapshots)
    _, expected = status_at(events, early.subject, after, now)
    assert render_status(state, after, now) == expected
