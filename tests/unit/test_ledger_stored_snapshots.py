"""Stored snapshots (services/ledger/stored_snapshots.py) on the in-memory ports: they
never change what a read answers — as of instants before, at and after them, known
at any instant, with corrupt, other-version or other-history snapshots among them —
and the projector's refresh resumes from them, keeps one every K events, and
projects the same rows as a fold from scratch."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.ledger_subject import one_subject
from services.ledger import tables
from services.ledger.access import status_for, status_json
from services.ledger.fold_cache import DAWN, FoldCache, Folded
from services.ledger.ingest import Ingest
from services.ledger.memory import MemoryEventStore, MemoryLedger
from services.ledger.projector import Projector
from services.ledger.read_models import refresh
from services.ledger.read_models.changed_rows import rows_of
from services.ledger.read_models.rows import project
from services.ledger.replay import fold_recorded, recorded_events, status_at
from services.ledger.snapshot_store import MemorySnapshotStore, StoredSnapshot
from services.ledger.snapshots import Snapshots, state_at
from services.ledger.store import GENESIS, StoredEvent
from services.ledger.stored_snapshots import StoredSnapshots
from shared.domain.fold_state import SubjectState
from shared.domain.status_view import render_status
from tests.support.counting_snapshots import CountingSnapshotStore
from tests.support.ledger_events import T0, Script
from tests.support.ledger_workload import batches, records
from tests.support.subjects import new_uscc
from tests.unit.test_ledger_snapshots import LONG, STREAMS, _arrived
from tests.unit.test_ledger_status_json import CALLERS

START = Folded(0, GENESIS, SubjectState(), DAWN)


class CountingEvents(MemoryEventStore):
    """Counts the events its reads return (what a read or refresh folds or skips)."""

    def __init__(self, inner: MemoryEventStore) -> None:
        super().__init__()
        self.inner, self.read = inner, 0

    async def stream(
        self, stream_id: str, after_version: int = 0, limit: int | None = None
    ) -> list[StoredEvent]:
        out = await self.inner.stream(stream_id, after_version, limit)
        self.read += len(out)
        return out

    async def visible_stream(
        self, stream_id: str, as_of: datetime, known_at: datetime, after_version: int = 0
    ) -> list[StoredEvent]:
        out = await self.inner.visible_stream(stream_id, as_of, known_at, after_version)
        self.read += len(out)
        return out


async def _keep(
    stored: StoredSnapshots, subject: str, events: list[StoredEvent], cuts: list[int]
) -> Folded:
    """Fold the stream as the projector's refreshes do, one part between `cuts` at a
    time, keeping and storing the states at multiples of K."""
    folded = START
    bounds = [0, *sorted(set(cuts)), len(events)]
    for start, end in itertools.pairwise(bounds):
        folded = stored.fold_marked(subject, folded, events[start:end])
        await stored.flush()
    return folded


async def test_the_projectors_fold_keeps_the_state_at_every_multiple_of_k() -> None:
    store = MemoryEventStore()
    async with store.begin() as tx:
        await tx.append([(env, None) for env in one_subject(95)])
    subject = store.events[0].stream
    events = await store.stream(subject)
    snapshots = MemorySnapshotStore()
    stored = StoredSnapshots(snapshots, store, every=10)
    head = await _keep(stored, subject, events, [5, 33, 34, 70])
    assert head.state == fold_recorded(recorded_events(events), subject)
    assert head.latest_recorded == max(e.recorded_at for e in events)
    assert sorted(v for _, v in snapshots.snapshots) == list(range(10, 91, 10))
    assert stored.written == 9
    assert stored.bytes_written > 0
    for (_, version), snap in snapshots.snapshots.items():
        prefix = events[:version]
        assert (snap.hash, snap.codec) == (prefix[-1].hash, StoredSnapshots.codec())
        assert snap.latest_effective == max(e.effective_at for e in prefix)
        assert snap.latest_recorded == max(e.recorded_at for e in prefix)
        folded = await stored.usable(subject, snap.latest_effective, snap.latest_recorded)
        assert folded is not None
        assert folded.version == version
        assert folded.state == fold_recorded(recorded_events(prefix), subject)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_stored_snapshots_never_change_what_a_read_answers(data: st.DataObject) -> None:
    """Any stream of the domain's scenarios, any arrival, any K and any batching of
    the refreshes that stored the snapshots, some of them spoiled (bytes that do not
    parse, another version's, another history's hash); a read from a process that
    has none in memory, at instants before, at and after the snapshots' own: the
    status (and its JSON for every caller) of the visible events folded from the
    start."""
    name = data.draw(st.sampled_from(list(STREAMS)))
    envelopes = data.draw(st.permutations(STREAMS[name])) if name != LONG else STREAMS[name]
    n = len(envelopes)
    store = asyncio.run(_arrived(envelopes, data.draw(st.lists(st.integers(0, n), max_size=4))))
    subject = envelopes[0].subject
    events = asyncio.run(store.stream(subject))
    snapshots = MemorySnapshotStore()
    stored = StoredSnapshots(snapshots, store, every=data.draw(st.integers(1, 6)))
    cuts = data.draw(st.lists(st.integers(0, len(events)), max_size=4))
    asyncio.run(_keep(stored, subject, events, cuts))
    keys = sorted(snapshots.snapshots)
    for key in data.draw(st.lists(st.sampled_from(keys))) if keys else []:
        spoil = data.draw(st.sampled_from(["bytes", "codec", "hash", "tag"]))
        s = snapshots.snapshots[key]
        snapshots.snapshots[key] = {
            "bytes": replace(s, state=s.state[: len(s.state) // 2]),
            "codec": replace(s, codec="an older one"),
            "hash": replace(s, hash="0" * 64),
            "tag": replace(s, state=b"0" + s.state[1:]),
        }[spoil]
    now = datetime.now(UTC)
    marks = [(s.latest_effective, s.latest_recorded) for s in snapshots.snapshots.values()]
    effective = sorted({e.effective_at for e in events} | {m[0] for m in marks})
    recorded = sorted({e.recorded_at for e in events} | {m[1] for m in marks})
    as_of = data.draw(
        st.one_of(
            st.sampled_from(effective).flatmap(
                lambda t: st.sampled_from(
                    [t - timedelta(microseconds=1), t, t + timedelta(hours=1)]
                )
            ),
            st.just(now + timedelta(days=3650)),
        )
    )
    known_at = data.draw(st.one_of(st.sampled_from(recorded), st.just(now)))
    _, expected = status_at(events, subject, as_of, known_at)
    memory = Snapshots(every=0, capacity=data.draw(st.integers(0, 3)), stored=stored)
    for _ in range(2):  # the second read finds the first one's snapshot in memory
        state = asyncio.run(state_at(store, subject, as_of, known_at, memory))
        got = render_status(state, as_of, known_at, memory.memo(subject))
        assert got == expected
        for caller in CALLERS:
            assert status_json(caller, got) == orjson.dumps(status_for(caller, expected)), caller


async def test_a_read_folds_only_the_events_after_the_stored_snapshot() -> None:
    inner = MemoryEventStore()
    async with inner.begin() as tx:
        await tx.append([(env, None) for env in one_subject(95)])
    events = CountingEvents(inner)
    subject = inner.events[0].stream
    stored = StoredSnapshots(MemorySnapshotStore(), events, every=40)
    await _keep(stored, subject, await inner.stream(subject), [])
    now = datetime.now(UTC)
    state = await state_at(events, subject, now, now, Snapshots(0, 4, stored=stored))
    assert state == fold_recorded(recorded_events(inner.events), subject)
    assert events.read == 95 - 80 + 1  # from the snapshot at 80, its own event included
    # as of before the snapshot at 80's events: the one at 40
    middle = inner.events[59].effective_at
    events.read = 0
    await state_at(events, subject, middle, now, Snapshots(0, 4, stored=stored))
    assert events.read == len([e for e in inner.events[39:] if e.effective_at <= middle])


async def test_the_projector_resumes_a_refresh_from_the_stored_snapshot() -> None:
    """The fold cache off: every refresh misses, and folds from the newest stored
    snapshot, reading only the events after it; the rows are the whole stream's."""
    ledger = MemoryLedger()
    events = CountingEvents(ledger.events)
    stored = StoredSnapshots(MemorySnapshotStore(), events, every=20)
    projector = Projector(ledger, cache=FoldCache(capacity=0), stored=stored)
    ingest = Ingest(hand_over=projector.hand_over)
    envelopes = one_subject(95)
    subject = envelopes[0].subject
    parts = list(batches(records(envelopes), 15))
    for part in parts:
        async with ledger.begin() as tx:
            await ingest.apply(tx, part)
        await projector.drain()
    scratch = project(subject, await ledger.events.stream(subject))
    for table in tables.PROJECTIONS:
        assert ledger.rows[subject][table.name] == rows_of(scratch, table), table.name
    assert stored.written == 4  # at 20, 40, 60, 80
    # each refresh after the first snapshot read the stream from its newest one on:
    # far fewer events than the whole stream's at each of them
    assert 0 < events.read < sum(range(15, 96, 15)) // 2


async def test_a_snapshot_with_an_event_effective_after_as_of_is_not_used() -> None:
    """The stream's first event is effective after its second: as of between the two,
    the snapshots of both versions hold the first (not visible then), so neither
    serves; the second's own event is visible, so only their instants can tell."""
    script = Script(new_uscc())
    late = script.issue(at=T0 + timedelta(days=9), decision_no="税〔2026〕2号")
    early = script.issue(at=T0, decision_no="税〔2026〕1号")
    store = await _arrived([late, early], [])
    events = await store.stream(early.subject)
    stored = StoredSnapshots(MemorySnapshotStore(), store, every=1)
    await _keep(stored, early.subject, events, [1])
    between, now = T0 + timedelta(days=5), datetime.now(UTC)
    state = await state_at(store, early.subject, between, now, Snapshots(0, 4, stored=stored))
    _, expected = status_at(events, early.subject, between, now)
    assert render_status(state, between, now) == expected
    assert len(state.designations) == 1


class FailingStore(MemorySnapshotStore):
    async def put(self, snapshots: Sequence[StoredSnapshot]) -> None:
        raise ConnectionError("the database is away")


async def test_a_failed_write_costs_only_the_snapshots() -> None:
    store = MemoryEventStore()
    async with store.begin() as tx:
        await tx.append([(env, None) for env in one_subject(25)])
    subject = store.events[0].stream
    events = await store.stream(subject)
    stored = StoredSnapshots(FailingStore(), store, every=10)
    head = await _keep(stored, subject, events, [])
    assert head.state == fold_recorded(recorded_events(events), subject)
    assert stored.written == 0
    assert await stored.resume(subject) is None
    await stored.flush()  # nothing kept for a second try: the next refresh keeps anew


async def test_a_read_of_a_stream_known_to_be_short_does_not_ask_the_store() -> None:
    """A head below K: no stored snapshot can exist, the store is not asked; an
    unknown head (None) or one at K or beyond asks it. The answer is the fold from the
    start either way — also with a stale head that hides a snapshot that does exist."""
    store = MemoryEventStore()
    async with store.begin() as tx:
        await tx.append([(env, None) for env in one_subject(30)])
    subject = store.events[0].stream
    events = await store.stream(subject)
    expected = fold_recorded(recorded_events(events), subject)
    snapshots = CountingSnapshotStore(MemorySnapshotStore())
    stored = StoredSnapshots(snapshots, store, every=40)
    await _keep(stored, subject, events, [])
    assert stored.written == 0
    now = datetime.now(UTC)
    for head, asked in [(30, 0), (39, 0), (None, 1), (40, 1), (95, 1)]:
        snapshots.asked = 0
        state = await state_at(store, subject, now, now, Snapshots(0, 4, stored=stored), head)
        assert (state, snapshots.asked) == (expected, asked), head
    stored.every = 10  # snapshots at 10, 20, 30 now; a stale head says 5
    await _keep(stored, subject, events, [])
    snapshots.asked = 0
    state = await state_at(store, subject, now, now, Snapshots(0, 4, stored=stored), 5)
    assert (state, snapshots.asked) == (expected, 0)


async def test_a_refresh_of_subjects_whose_events_it_does_not_hold_asks_the_store_once() -> None:
    """A lagging projector refreshes subjects none of whose events it holds (dropped by
    pending.py's bound): their length is unknown, so whether each has a stored snapshot
    is asked in one statement for all of them, and only one that has is resumed; the
    rows are those of a fold from scratch either way."""
    ledger = MemoryLedger()
    envelopes = [one_subject(30), one_subject(30), one_subject(95)]
    for stream in envelopes:
        async with ledger.events.begin() as tx:
            await tx.append([(env, None) for env in stream])
    subjects = [stream[0].subject for stream in envelopes]
    snapshots = CountingSnapshotStore(MemorySnapshotStore())
    stored = StoredSnapshots(snapshots, ledger.events, every=40)
    long = subjects[2]
    await _keep(stored, long, await ledger.events.stream(long), [])
    assert stored.written == 2  # the long one's, at 40 and 80
    snapshots.asked = 0
    async with ledger.begin() as tx:
        projections = await refresh.refresh(tx.projections, subjects, (), None, None, stored)
    assert snapshots.asked == 2  # which have one (all three at once), then the long one's
    for subject, p in zip(subjects, projections, strict=True):
        scratch = project(subject, await ledger.events.stream(subject))
        assert p == scratch, subject
