"""The contract of `TaskStore` (services/responder/ports.py), through a
`ResponderStore`: tasks found by designation and measure, listed oldest first, each
department's own; updates set only their columns; the clock's due tasks; a task held
by an officer's answer makes a pass wait; nothing of a rolled-back transaction; a
new row with a stored task id raises `TaskExists` (a pass that assumed a designation
had no tasks yet is made again on it: execution.advance)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from services.responder.ports import Known, ResponderStore, TaskExists
from tests.contracts.responder_support import department, subject, task_row


class TaskStoreContract:
    """Subclasses provide a fixture `store` giving a ResponderStore over an empty store."""

    async def test_tasks_by_designation_and_measure_listed_oldest_first(
        self, store: ResponderStore
    ) -> None:
        dept, other = department(), department()
        d1, d2, none, s = uuid4(), uuid4(), uuid4(), subject()
        first = [task_row(dept, d1, m, s) for m in ("m.b", "m.a")]
        async with store.begin() as unit:
            await unit.tasks.write(first, {})
            await unit.tasks.write([task_row(other, d1, "m.a", s)], {})
        await asyncio.sleep(0.01)
        async with store.begin() as unit:
            await unit.tasks.write([task_row(dept, d2, "m.c", s, state="executed")], {})
        async with store.begin() as unit:
            found = await unit.tasks.for_update(dept, [d1, none])
            assert set(found) == {d1, none}
            assert found[none] == {}
            assert found[d1] == {
                r["measure"]: Known(r["task_id"], "manual", "pending", None) for r in first
            }
            listed = await unit.tasks.listed(dept, None, None, 10)
            by_id = sorted(r["task_id"] for r in first)
            assert [t.task_id for t in listed][:2] == by_id  # same instant: by task id
            assert [t.measure for t in listed][2:] == ["m.c"]  # created later
            assert [t.measure for t in await unit.tasks.listed(dept, "executed", None, 10)] == [
                "m.c"
            ]
            assert [t.designation_id for t in await unit.tasks.listed(dept, None, d2, 10)] == [d2]
            assert len(await unit.tasks.listed(dept, None, None, 1)) == 1
            task = await unit.tasks.get(dept, listed[0].task_id, lock=False)
            assert task is not None
            assert (task.subject_id, task.note, task.answered_at) == (s, "", None)
            assert task.created_at == task.updated_at
            assert await unit.tasks.get(other, listed[0].task_id, lock=False) is None

    async def test_an_update_sets_its_columns_only(self, store: ResponderStore) -> None:
        dept, did, s = department(), uuid4(), subject()
        row = task_row(dept, did, "m.a", s)
        async with store.begin() as unit:
            await unit.tasks.write([row], {})
        await asyncio.sleep(0.01)
        async with store.begin() as unit:
            await unit.tasks.write(
                [], {row["task_id"]: {"state": "suspended", "resume_to": "pending"}}
            )
        async with store.begin() as unit:
            task = await unit.tasks.get(dept, row["task_id"], lock=False)
        assert task is not None
        assert (task.state, task.resume_to, task.subject_name) == (
            "suspended",
            "pending",
            "某某公司",
        )
        assert task.updated_at > task.created_at
        answered = datetime.now(UTC)
        async with store.begin() as unit:
            values = {"state": "executed", "answered_at": answered, "updated_at": answered}
            await unit.tasks.write([], {row["task_id"]: values})
            task = await unit.tasks.get(dept, row["task_id"], lock=True)
        assert task is not None
        assert (task.state, task.answered_at, task.updated_at) == ("executed", answered, answered)

    async def test_the_clock_finds_due_tasks_until_they_stop_waking(
        self, store: ResponderStore
    ) -> None:
        dept, d1, d2, s = department(), uuid4(), uuid4(), subject()
        now = datetime.now(UTC)
        rows = [
            task_row(dept, d1, "m.a", s, wake_at=now - timedelta(seconds=1)),
            task_row(dept, d1, "m.b", s, wake_at=now - timedelta(seconds=2)),
            task_row(dept, d2, "m.a", s, wake_at=now + timedelta(days=1)),
            task_row(department(), d1, "m.c", s, wake_at=now - timedelta(seconds=1)),
        ]
        async with store.begin() as unit:
            await unit.tasks.write(rows, {})
        async with store.begin() as unit:
            assert await unit.tasks.due(dept, now) == [(s, d1)]  # one per designation
            assert sorted(await unit.tasks.due(dept, now + timedelta(days=2))) == sorted(
                [(s, d1), (s, d2)]
            )
            await unit.tasks.stop_waking(dept, d1)
        async with store.begin() as unit:
            assert await unit.tasks.due(dept, now) == []
            assert await unit.tasks.due(rows[3]["department"], now) == [(s, d1)]

    async def test_a_pass_waits_for_an_answer_holding_the_task(self, store: ResponderStore) -> None:
        dept, did, s = department(), uuid4(), subject()
        row = task_row(dept, did, "m.a", s)
        async with store.begin() as unit:
            await unit.tasks.write([row], {})
        release = asyncio.Event()
        seen: list[dict[str, Known]] = []

        async def officer() -> None:
            async with store.begin() as unit:
                assert await unit.tasks.get(dept, row["task_id"], lock=True) is not None
                await unit.tasks.write([], {row["task_id"]: {"state": "executed"}})
                await release.wait()

        async def lane() -> None:
            async with store.begin() as unit:
                seen.append((await unit.tasks.for_update(dept, [did]))[did])

        answering = asyncio.create_task(officer())
        await asyncio.sleep(0.1)
        passing = asyncio.create_task(lane())
        await asyncio.sleep(0.3)
        assert not passing.done()  # the task is held by the answer
        release.set()
        await asyncio.gather(answering, passing)
        assert seen == [{"m.a": Known(row["task_id"], "manual", "executed", None)}]

    async def test_a_rolled_back_transaction_writes_no_task(self, store: ResponderStore) -> None:
        dept, did = department(), uuid4()
        row = task_row(dept, did, "m.a", subject())
        try:
            async with store.begin() as unit:
                await unit.tasks.write([row], {})
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
        async with store.begin() as unit:
            assert await unit.tasks.for_update(dept, [did]) == {did: {}}
            assert await unit.tasks.listed(dept, None, None, 10) == []

    async def test_a_new_row_with_a_stored_task_id_raises_task_exists(
        self, store: ResponderStore
    ) -> None:
        dept, did = department(), uuid4()
        row = task_row(dept, did, "m.a", subject())
        async with store.begin() as unit:
            await unit.tasks.write([row], {})
        with pytest.raises(TaskExists):
            async with store.begin() as unit:
                await unit.tasks.write([task_row(dept, did, "m.b", subject()), row], {})
        async with store.begin() as unit:  # nothing of the failed transaction
            assert await unit.tasks.for_update(dept, [did]) == {
                did: {"m.a": Known(row["task_id"], "manual", "pending", None)}
            }
