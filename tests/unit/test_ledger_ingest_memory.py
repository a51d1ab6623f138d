"""Ingest (services/ledger/ingest.py) and the projector (services/ledger/projector.py)
on the in-memory ports (services/ledger/memory.py), without Postgres: what a batch
appends, projects, publishes and dead-letters, and that the incrementally maintained
projection (fold cache, handed-over events, changed rows, any batching, any number of
batches between two projection rounds) equals the projection of each subject's whole
stream from scratch. The same
`Projections` contract as Postgres runs here on the memory adapter."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence

import pytest
from aiokafka import ConsumerRecord

from services.ledger import tables
from services.ledger.fold_cache import FoldCache
from services.ledger.ingest import Ingest
from services.ledger.memory import MemoryLedger
from services.ledger.projector import Projector
from services.ledger.read_models.changed_rows import rows_of
from services.ledger.read_models.rows import project
from shared.adapters.topics import DEADLETTER, STATUS
from tests.contracts.ledger_projections import ProjectionsContract
from tests.support.ledger_workload import batches, consumer_record, court_bulk, records


class TestMemoryProjections(ProjectionsContract):
    @pytest.fixture
    def ledger(self) -> MemoryLedger:
        return MemoryLedger()


def _offset(record: ConsumerRecord) -> int:
    return int(record.offset)


def _pair(ledger: MemoryLedger, cache: FoldCache | None = None) -> tuple[Ingest, Projector]:
    """Ingest handing its events over to a projector of the same ledger."""
    projector = Projector(ledger, cache=cache)
    return Ingest(hand_over=projector.hand_over), projector


async def _ingest(
    ledger: MemoryLedger,
    ingest: Ingest,
    parts: Sequence[Sequence[ConsumerRecord]],
    projector: Projector | None = None,
    project_after: Sequence[bool] = (),
) -> None:
    """Apply each part in its own transaction; the projector projects after the parts
    `project_after` names (by index; none named: after each) and at the end."""
    for n, part in enumerate(parts):
        async with ledger.begin() as tx:
            await ingest.apply(tx, part)
        if projector is not None and (not project_after or project_after[n]):
            await projector.drain()
    if projector is not None:
        await projector.drain()


async def _from_scratch_equals_stored(ledger: MemoryLedger) -> int:
    subjects = {e.stream for e in ledger.events.events}
    for subject in subjects:
        scratch = project(subject, await ledger.events.stream(subject))
        stored = ledger.rows[subject]
        for table in tables.PROJECTIONS:
            assert stored[table.name] == rows_of(scratch, table), (subject, table.name)
    return len(subjects)


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_incremental_projection_equals_the_projection_from_scratch(seed: int) -> None:
    """Any batching, any arrival order of the two topics, with the fold cache (hits,
    and misses from a tiny cache): the stored rows are `project(whole stream)`."""
    rng = random.Random(seed)
    recs = records(court_bulk(8, chunk=3, seed=seed).envelopes)
    rng.shuffle(recs)  # partitions interleaved at random
    feedback = [r for r in recs if "feedback" in r.topic]
    designations = [r for r in recs if r not in feedback]
    # each topic keeps its order per partition; the lanes interleave at random, so a
    # feedback may come before its designation: the fold must not mind
    lanes = [sorted(designations, key=_offset), sorted(feedback, key=_offset)]
    ordered: list[ConsumerRecord] = []
    while any(lanes):
        lane = rng.choice([lane for lane in lanes if lane])
        ordered.append(lane.pop(0))
    parts: list[Sequence[ConsumerRecord]] = []
    start = 0
    while start < len(ordered):
        size = rng.choice([1, 7, 40, 150])
        parts.append(ordered[start : start + size])
        start += size
    ledger = MemoryLedger()
    ingest, projector = _pair(ledger, FoldCache(capacity=rng.choice([0, 2, 500])))
    await _ingest(ledger, ingest, parts, projector, [rng.random() < 0.5 for _ in parts])
    assert len(ledger.events.events) == len(recs)
    assert await _from_scratch_equals_stored(ledger) == 8


async def test_one_status_per_subject_per_batch_caused_by_its_last_event() -> None:
    listed = court_bulk(3, chunk=3, seed=4)
    ledger = MemoryLedger()
    ingest, projector = _pair(ledger)
    await _ingest(ledger, ingest, [records(listed.envelopes)], projector)
    messages = [r.message for r in ledger.outbox.rows]
    assert sorted(m.key for m in messages) == sorted({e.subject for e in listed.envelopes})
    for m in messages:
        assert m.topic == STATUS
        head = (await ledger.events.stream(m.key))[-1]
        assert m.headers["jsb-caused-by"] == str(head.event_id)
        data = json.loads(m.value)["data"]
        assert data["caused_by"] == str(head.event_id)
        assert data["subject_id"] == ledger.rows[m.key]["subject_status"][0]["status"]["subject_id"]


async def test_a_redelivered_batch_changes_nothing() -> None:
    recs = records(court_bulk(2, chunk=2, seed=5).envelopes)
    ledger = MemoryLedger()
    ingest, projector = _pair(ledger)
    await _ingest(ledger, ingest, [recs], projector)
    events, messages = len(ledger.events.events), len(ledger.outbox.rows)
    rows = {s: dict(r) for s, r in ledger.rows.items()}
    await _ingest(ledger, ingest, list(batches(recs, 30)), projector)
    assert len(ledger.events.events) == events
    assert len(ledger.outbox.rows) == messages
    assert ledger.rows == rows


async def test_poison_is_dead_lettered_and_the_rest_ingested() -> None:
    good = records(court_bulk(1, chunk=1, seed=6).envelopes)
    poison = consumer_record(good[0].topic, 0, 999, b"k", b"{not json")
    ledger = MemoryLedger()
    ingest, projector = _pair(ledger)
    await _ingest(ledger, ingest, [[poison, *good]], projector)
    dead = [r.message for r in ledger.outbox.rows if r.message.topic == DEADLETTER]
    assert len(dead) == 1
    assert dead[0].headers["jsb-source-offset"] == "999"
    assert ingest.dead_lettered == 1
    assert len(ledger.events.events) == len(good)


async def test_a_batch_that_fails_leaves_nothing_and_its_retry_is_whole() -> None:
    recs = records(court_bulk(2, chunk=2, seed=8).envelopes)
    ledger = MemoryLedger()
    # the projector's fold cache and handed-over events keep what the failed batch had
    ingest, projector = _pair(ledger)
    await _ingest(ledger, ingest, [recs[:20]], projector)

    async def apply_then_fail() -> None:
        async with ledger.begin() as tx:
            await ingest.apply(tx, recs[20:])
            raise RuntimeError("the offsets could not be stored")

    with pytest.raises(RuntimeError):
        await apply_then_fail()
    assert len(ledger.events.events) == 20
    assert not ledger.queue  # the failed batch queued nothing
    await _ingest(ledger, ingest, [recs[20:]], projector)
    assert len(ledger.events.events) == len(recs)
    assert await _from_scratch_equals_stored(ledger) == 2
