"""The contract of `DeliveryLog` (services/responder/ports.py), through a
`ResponderStore`: each department reads its own deliveries in position order after
its cursor, a pass holds its department's cursor until it commits, and ingest
transactions committing concurrently never let a department skip a delivery."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from services.responder.ports import ResponderStore
from tests.contracts.responder_support import append, department, envelope, subject, task_row


class DeliveryLogContract:
    """Subclasses provide a fixture `store` giving a ResponderStore over an empty store."""

    async def test_a_batch_of_deliveries_is_what_each_delivery_gives(
        self, store: ResponderStore
    ) -> None:
        mine, other = department(), department()
        positions = [p for p in await append(store, *(envelope(subject()) for _ in range(3)))]
        assert None not in positions
        p0, p1, p2 = (p or 0 for p in positions)
        async with store.begin() as unit:
            await unit.deliveries.ensure([mine, other])
            await unit.deliveries.deliver_many([(p0, [mine]), (p1, [mine, other]), (p2, [])])
            await unit.deliveries.deliver_many([])
        async with store.begin() as unit:
            assert [d.position for d in await unit.deliveries.after(mine, 0, 10)] == [p0, p1]
            assert [d.position for d in await unit.deliveries.after(other, 0, 10)] == [p1]

    async def test_a_department_reads_its_own_deliveries_after_its_cursor(
        self, store: ResponderStore
    ) -> None:
        mine, other = department(), department()
        s = subject()
        envs = [envelope(s, n) for n in range(5)]
        positions = [p for p in await append(store, *envs) if p is not None]
        async with store.begin() as unit:
            await unit.deliveries.ensure([mine, other])
            for p in positions:
                await unit.deliveries.deliver(p, [mine] if p != positions[1] else [mine, other])
        async with store.begin() as unit:
            pending = await unit.deliveries.pending([mine, other, "unhosted"], datetime.now(UTC))
            assert sorted(pending) == sorted([mine, other])
            cursor = await unit.deliveries.lock_cursor(mine)
            assert cursor == 0
            page = await unit.deliveries.after(mine, cursor, 3)
            assert [d.position for d in page] == positions[:3]
            assert [(await unit.events.stored(d.position) or {})["data"] for d in page] == [
                {"n": 0},
                {"n": 1},
                {"n": 2},
            ]
            assert {(d.subject_id, d.source_partition) for d in page} == {(s, 0)}
            assert [d.source_offset for d in page] == [0, 1, 2]
            assert [d.position for d in await unit.deliveries.after(other, 0, 10)] == [positions[1]]
            await unit.deliveries.move_cursor(mine, page[-1].position)
        async with store.begin() as unit:
            assert await unit.deliveries.cursor(mine) == positions[2]
            assert await unit.deliveries.cursor(other) == 0
            rest = await unit.deliveries.after(mine, 0, 10)  # the ones applied are gone
            assert [d.position for d in rest] == positions[3:]
            await unit.deliveries.ensure([mine])  # an existing cursor stays
            assert await unit.deliveries.cursor(mine) == positions[2]
            await unit.deliveries.move_cursor(mine, positions[-1])
            assert await unit.deliveries.pending([mine], datetime.now(UTC)) == []

    async def test_a_department_with_a_task_due_is_pending(self, store: ResponderStore) -> None:
        dept, did, s = department(), uuid4(), subject()
        now = datetime.now(UTC)
        async with store.begin() as unit:
            await unit.deliveries.ensure([dept])
            row = task_row(dept, did, "m.one", s, wake_at=now + timedelta(hours=1))
            await unit.tasks.write([row], {})
        async with store.begin() as unit:
            assert await unit.deliveries.pending([dept], now) == []
            assert await unit.deliveries.pending([dept], now + timedelta(hours=2)) == [dept]

    async def test_a_second_pass_of_a_department_waits_for_the_first(
        self, store: ResponderStore
    ) -> None:
        dept = department()
        (position,) = await append(store, envelope(subject()))
        assert position is not None
        async with store.begin() as unit:
            await unit.deliveries.ensure([dept])
            await unit.deliveries.deliver(position, [dept])
        release = asyncio.Event()
        seen: list[int] = []

        async def first() -> None:
            async with store.begin() as unit:
                cursor = await unit.deliveries.lock_cursor(dept)
                page = await unit.deliveries.after(dept, cursor, 10)
                await release.wait()
                await unit.deliveries.move_cursor(dept, page[-1].position)

        async def second() -> None:
            async with store.begin() as unit:
                cursor = await unit.deliveries.lock_cursor(dept)
                seen.extend(d.position for d in await unit.deliveries.after(dept, cursor, 10))
                seen.append(cursor)

        holder = asyncio.create_task(first())
        await asyncio.sleep(0.1)
        later = asyncio.create_task(second())
        await asyncio.sleep(0.3)
        assert not later.done()  # it waits for the first pass's outcome
        release.set()
        await asyncio.gather(holder, later)
        assert seen == [position]  # nothing left to apply; the cursor as the first left it

    async def test_concurrent_ingests_never_let_a_department_skip_a_delivery(
        self, store: ResponderStore
    ) -> None:
        """Ingest transactions that commit late, and a department reading after its
        cursor meanwhile: it reads every delivery exactly once, in order."""
        dept, writers, rounds = department(), 4, 8
        rng = random.Random(7)
        async with store.begin() as unit:
            await unit.deliveries.ensure([dept])
        done = asyncio.Event()
        delivered: list[int] = []

        async def writer() -> None:
            for _ in range(rounds):
                async with store.begin() as unit:
                    await unit.events.take_ingest_turn()
                    for _ in range(rng.randint(1, 3)):
                        p = await unit.events.append(envelope(subject()), uuid4(), 0, 0)
                        assert p is not None
                        await unit.deliveries.deliver(p, [dept])
                        delivered.append(p)
                    await asyncio.sleep(rng.uniform(0, 0.01))  # commit late

        seen: list[int] = []

        async def department_pass() -> None:
            while True:
                finished = done.is_set()
                async with store.begin() as unit:
                    cursor = await unit.deliveries.lock_cursor(dept)
                    page = await unit.deliveries.after(dept, cursor, 5)
                    if page:
                        await unit.deliveries.move_cursor(dept, page[-1].position)
                seen.extend(d.position for d in page)
                if not page and finished:
                    return
                await asyncio.sleep(0.002)

        reader = asyncio.create_task(department_pass())
        await asyncio.gather(*(writer() for _ in range(writers)))
        done.set()
        await reader
        assert seen == sorted(delivered)
        assert len(seen) == len(set(seen)) == len(delivered)
