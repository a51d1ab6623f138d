"""Snapshots of a subject's fold every K events (services/ledger/snapshots.py): each
equals the fold from scratch of its prefix, and a status read from a snapshot equals
the status folded from the whole stream, at any as_of / known_at."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bench.ledger_subject import one_subject
from services.ledger.memory import MemoryEventStore
from services.ledger.replay import fold_recorded, recorded_events, status_at
from services.ledger.snapshots import Snapshot, Snapshots, fold_visible, state_at
from shared.domain.status_view import render_status

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
