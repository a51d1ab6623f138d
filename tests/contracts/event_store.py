"""The contract of the ledger's `EventStore` (services/ledger/ports.py)."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from services.ledger.ports import EventStore
from services.ledger.store import GENESIS, SourceRef
from services.ledger.verify import verify_chain
from shared.domain.envelope import Envelope


def envelope(subject: str, time: datetime | None = None) -> Envelope:
    return Envelope(
        type="jsb.test.appended", source="/t", subject=subject, time=time or datetime.now(UTC)
    )


def _now() -> datetime:
    return datetime.now(UTC)


def subject() -> str:
    return "S-" + uuid4().hex[:12]


class EventStoreContract:
    """Subclasses provide a fixture `store` giving an empty EventStore."""

    async def test_appends_chain_each_stream_and_number_it(self, store: EventStore) -> None:
        a, b = subject(), subject()
        async with store.begin() as tx:
            appended = await tx.append([(envelope(a), None), (envelope(b), None)])
            appended += await tx.append([(envelope(a), None)])
        stream = await store.stream(a)
        assert [e.stream_version for e in stream] == [1, 2]
        assert stream[0].prev_hash == GENESIS
        assert stream[1].prev_hash == stream[0].hash
        assert verify_chain(a, stream).ok
        positions = [e.position for e in appended]
        assert positions == sorted(positions)
        assert len(set(positions)) == 3

    async def test_a_stream_is_read_after_a_version(self, store: EventStore) -> None:
        a = subject()
        async with store.begin() as tx:
            await tx.append([(envelope(a), None) for _ in range(4)])
        whole = await store.stream(a)
        assert await store.stream(a, after_version=2) == whole[2:]
        assert await store.stream(a, after_version=4) == []
        assert await store.stream(a, after_version=1, limit=2) == whole[1:3]
        assert await store.stream(a, limit=10) == whole

    async def test_a_visible_stream_leaves_out_what_is_later_or_unknown(
        self, store: EventStore
    ) -> None:
        a = subject()
        t0 = datetime(2024, 1, 1, tzinfo=UTC)
        times = [t0 + timedelta(days=d) for d in (0, 5, 2, 9)]  # not in stream order
        async with store.begin() as tx:
            await tx.append([(envelope(a, at), None) for at in times[:2]])
        async with store.begin() as tx:
            await tx.append([(envelope(a, at), None) for at in times[2:]])
        whole = await store.stream(a)
        now = datetime.now(UTC)
        for as_of in (*times, t0 - timedelta(days=1), now):
            for known_at in (whole[0].recorded_at, whole[2].recorded_at, now):
                for after_version in (0, 1, 3):
                    expected = [
                        e
                        for e in whole[after_version:]
                        if e.effective_at <= as_of and e.recorded_at <= known_at
                    ]
                    got = await store.visible_stream(a, as_of, known_at, after_version)
                    assert got == expected
        assert [e.stream_version for e in await store.visible_stream(a, times[2], now)] == [1, 3]

    async def test_a_payload_reads_back_as_appended_whatever_its_numbers(
        self, store: EventStore
    ) -> None:
        a = subject()
        data = {"big": 2**70, "negative": -(2**64) - 1, "edge": 2**63, "small": 7, "x": 0.1}
        env = envelope(a).model_copy(update={"data": {**data, "note": "9" * 25, "n": [1.5]}})
        source = SourceRef("t", 3, 2**40)
        async with store.begin() as tx:
            appended = await tx.append([(env, source), (envelope(a), None)])
        for read in (await store.stream(a), await store.visible_stream(a, _now(), _now())):
            assert read == appended  # every column, the source's and the payload's
            assert read[0].payload == env.model_dump(mode="json", exclude_none=True)
            assert read[0].payload["data"]["big"] == 2**70
            assert verify_chain(a, read).ok

    async def test_an_event_id_is_appended_once(self, store: EventStore) -> None:
        env = envelope(subject())
        async with store.begin() as tx:
            first = await tx.append([(env, None), (env, None)])
        async with store.begin() as tx:
            again = await tx.append([(env, None)])
        assert len(first) == 1
        assert again == []
        assert len(await store.stream(env.subject)) == 1

    async def test_nothing_is_seen_before_the_commit_nor_after_a_rollback(
        self, store: EventStore
    ) -> None:
        s = subject()
        start = await store.after(0, 10_000)
        cursor = start[-1].position if start else 0
        try:
            async with store.begin() as tx:
                await tx.append([(envelope(s), None)])
                assert await store.after(cursor, 100) == []
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
        assert await store.stream(s) == []
        async with store.begin() as tx:
            await tx.append([(envelope(s), None)])
            assert await store.after(cursor, 100) == []
        assert [e.stream for e in await store.after(cursor, 100)] == [s]

    async def test_a_second_writer_waits_for_the_first_ones_turn(self, store: EventStore) -> None:
        release = asyncio.Event()

        async def first() -> None:
            async with store.begin() as tx:
                await tx.append([(envelope(subject()), None)])
                await release.wait()

        holder = asyncio.create_task(first())
        await asyncio.sleep(0.1)

        async def second() -> None:
            async with store.begin() as tx:
                await tx.append([(envelope(subject()), None)])

        later = asyncio.create_task(second())
        await asyncio.sleep(0.3)
        assert not later.done()  # it waits for the first writer's turn to end
        release.set()
        await asyncio.gather(holder, later)

    async def test_concurrent_writers_never_let_a_tailing_reader_skip(
        self, store: EventStore
    ) -> None:
        """Two-or-more writers whose transactions commit late: a reader following the
        positions sees each one exactly once, in order, and no chain forks."""
        writers, rounds = 4, 15
        shared = subject()
        rng = random.Random(4)
        done = asyncio.Event()
        start = await store.after(0, 100_000)
        origin = start[-1].position if start else 0

        async def writer(n: int) -> None:
            own = subject()
            for _ in range(rounds):
                async with store.begin() as tx:
                    batch = [
                        (envelope(rng.choice([own, shared])), None)
                        for _ in range(rng.randint(1, 3))
                    ]
                    await tx.append(batch)
                    await asyncio.sleep(rng.uniform(0, 0.01))  # commit late

        seen: list[int] = []

        async def reader() -> None:
            cursor = origin
            while True:
                finished = done.is_set()
                page = await store.after(cursor, 10_000)
                seen.extend(e.position for e in page)
                if page:
                    cursor = page[-1].position
                elif finished:
                    return
                await asyncio.sleep(0.002)

        tail = asyncio.create_task(reader())
        await asyncio.gather(*(writer(n) for n in range(writers)))
        done.set()
        await tail
        stored = [e.position for e in await store.after(origin, 100_000)]
        assert seen == stored  # none skipped, none left behind, in order
        assert len(stored) >= writers * rounds
        chain = await store.stream(shared)
        assert verify_chain(shared, chain).ok
        assert [e.stream_version for e in chain] == list(range(1, len(chain) + 1))
