"""The contract of the projection queue (`ProjectionQueue`, services/ledger/ports.py):
subclassed for the in-memory adapter (tests/unit/test_ledger_projection_queue.py) and
Postgres (tests/integration/test_ledger_projection_queue.py).

The race it pins down: ingest queues a subject again while a projection round that
took it is still open; the round unqueues it up to the head it projected, and the
subject must stay queued for the newer events — whether ingest commits before the
round's unqueue, or after it."""

from __future__ import annotations

import asyncio
from typing import Protocol

import pytest

from services.ledger.ports import IngestTransaction
from shared.ports import Transactions


class QueueLedger(Transactions[IngestTransaction], Protocol):
    pass


async def _queued(ledger: QueueLedger) -> dict[str, int]:
    async with ledger.begin() as tx:
        return {q.subject_id: q.last_position for q in await tx.queue.take(1000)}


async def _enqueue(ledger: QueueLedger, heads: dict[str, int]) -> None:
    async with ledger.begin() as tx:
        await tx.queue.enqueue(heads)


class ProjectionQueueContract:
    """Subclasses provide a fixture `ledger`: an empty store (QueueLedger)."""

    async def test_a_subject_keeps_its_place_and_the_greatest_position(
        self, ledger: QueueLedger
    ) -> None:
        await _enqueue(ledger, {"A": 3, "B": 4})
        await asyncio.sleep(0.01)
        await _enqueue(ledger, {"C": 9})
        await _enqueue(ledger, {"A": 7})
        await _enqueue(ledger, {"B": 2})  # an older position never lowers the queued one
        async with ledger.begin() as tx:
            taken = await tx.queue.take(10)
            depth = await tx.queue.depth()
        assert [q.subject_id for q in taken][2] == "C"  # A and B were queued first
        assert {q.subject_id: q.last_position for q in taken} == {"A": 7, "B": 4, "C": 9}
        assert depth.subjects == 3
        assert depth.oldest == min(q.queued_at for q in taken)
        async with ledger.begin() as tx:
            assert [q.subject_id for q in await tx.queue.take(1)] == [taken[0].subject_id]

    async def test_done_unqueues_only_up_to_the_projected_head(self, ledger: QueueLedger) -> None:
        await _enqueue(ledger, {"A": 5, "B": 8, "C": 1})
        async with ledger.begin() as tx:
            await tx.queue.take(10)
            unqueued = await tx.queue.done({"A": 5, "B": 7})
        assert unqueued == ["A"]
        assert await _queued(ledger) == {"B": 8, "C": 1}

    async def test_a_round_that_rolls_back_unqueues_nothing(self, ledger: QueueLedger) -> None:
        await _enqueue(ledger, {"A": 5})

        async def crash_before_the_commit() -> None:
            async with ledger.begin() as tx:
                await tx.queue.take(10)
                await tx.queue.done({"A": 5})
                raise RuntimeError("crash before the commit")

        with pytest.raises(RuntimeError):
            await crash_before_the_commit()
        assert await _queued(ledger) == {"A": 5}

    async def test_queued_again_and_committed_before_the_unqueue_stays(
        self, ledger: QueueLedger
    ) -> None:
        await _enqueue(ledger, {"A": 5, "B": 6})
        async with ledger.begin() as round_:
            taken = await round_.queue.take(10)
            assert {q.subject_id for q in taken} == {"A", "B"}
            await _enqueue(ledger, {"A": 9})  # ingest commits while the round projects
            await round_.queue.done({"A": 5, "B": 6})
        assert await _queued(ledger) == {"A": 9}

    async def test_queued_again_before_the_unqueue_and_committed_after_it_stays(
        self, ledger: QueueLedger
    ) -> None:
        """Ingest's upsert holds the row when the round unqueues: the round waits for
        it (Postgres) and must then see the newer position."""
        await _enqueue(ledger, {"A": 5})
        async with ledger.begin() as round_:
            await round_.queue.take(10)
            ingest_cm = ledger.begin()
            ingest = await ingest_cm.__aenter__()
            await ingest.queue.enqueue({"A": 9})
            unqueue = asyncio.create_task(round_.queue.done({"A": 5}))
            await asyncio.sleep(0.3)
            await ingest_cm.__aexit__(None, None, None)
            await unqueue
        assert await _queued(ledger) == {"A": 9}

    async def test_queued_again_after_the_unqueue_stays(self, ledger: QueueLedger) -> None:
        """The round has unqueued the subject but not committed: ingest's upsert waits
        (Postgres) and queues it again once the round commits."""
        await _enqueue(ledger, {"A": 5})
        async with ledger.begin() as round_:
            await round_.queue.take(10)
            assert await round_.queue.done({"A": 5}) == ["A"]
            requeue = asyncio.create_task(_enqueue(ledger, {"A": 9}))
            await asyncio.sleep(0.3)
        await requeue
        assert await _queued(ledger) == {"A": 9}

    async def test_only_subjects_queued_long_enough_are_taken(self, ledger: QueueLedger) -> None:
        await _enqueue(ledger, {"A": 1})
        async with ledger.begin() as tx:
            assert await tx.queue.take(10, min_age_s=60.0) == []
        await asyncio.sleep(0.05)
        async with ledger.begin() as tx:
            assert [q.subject_id for q in await tx.queue.take(10, min_age_s=0.01)] == ["A"]

    async def test_a_subject_queued_again_waits_until_quiet_but_not_past_the_bound(
        self, ledger: QueueLedger
    ) -> None:
        """The projector's debounce: a subject is taken once no batch has queued it for
        `quiet_s`, or once it was first queued `min_age_s` ago, whichever comes first;
        queuing it again keeps its place in the order."""
        await _enqueue(ledger, {"A": 1, "B": 2})
        await asyncio.sleep(0.3)
        await _enqueue(ledger, {"A": 3})  # A touched again, B quiet for 0.3 s
        async with ledger.begin() as tx:
            taken = await tx.queue.take(10, min_age_s=60.0, quiet_s=0.2)
        assert [q.subject_id for q in taken] == ["B"]
        assert taken[0].touched_at is not None
        await asyncio.sleep(0.25)
        async with ledger.begin() as tx:
            taken = await tx.queue.take(10, min_age_s=60.0, quiet_s=0.2)
        assert [(q.subject_id, q.last_position) for q in taken] == [("A", 3), ("B", 2)]
        await _enqueue(ledger, {"A": 4})  # touched now, but first queued 0.55 s ago
        async with ledger.begin() as tx:
            quiet = await tx.queue.take(10, min_age_s=60.0, quiet_s=0.2)
            taken = await tx.queue.take(10, min_age_s=0.5, quiet_s=0.2)
        assert [q.subject_id for q in quiet] == ["B"]
        assert [q.subject_id for q in taken] == ["A", "B"]

    async def test_projection_rounds_take_turns(self, ledger: QueueLedger) -> None:
        """A second round waits for the first to commit (one writer of projection rows)."""
        await _enqueue(ledger, {"A": 1})
        order: list[str] = []

        async def second() -> None:
            async with ledger.begin() as tx:
                await tx.queue.take(10)
                order.append("second took")

        async with ledger.begin() as first:
            await first.queue.take(10)
            waiting = asyncio.create_task(second())
            await asyncio.sleep(0.3)
            order.append("first commits")
        await waiting
        assert order == ["first commits", "second took"]
