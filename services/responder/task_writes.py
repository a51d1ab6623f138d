"""The task rows one pass writes, gathered while it plans and written at its end in
one statement per shape instead of one round trip per task.

Why it is the same as writing each plan at once: a task's later values override its
earlier ones key by key (`merge`), a row inserted and then updated in the same pass is
inserted with its final values, and nothing in the pass reads the tasks back from the
database (the pass reads them from its `TaskBook`). Profile that motivated it:
docs/benchmarks.md, "Pipeline".
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, func
from sqlalchemy.ext.asyncio import AsyncConnection

from services.responder import tables
from services.responder.planning import Plan


class TaskWrites:
    def __init__(self) -> None:
        self._inserts: dict[UUID, dict[str, Any]] = {}
        self._updates: dict[UUID, dict[str, Any]] = {}

    def __bool__(self) -> bool:
        return bool(self._inserts or self._updates)

    def add(self, todo: Plan) -> None:
        for row in todo.inserts:
            self._inserts[row["task_id"]] = dict(row)
        for task, values in todo.updates:
            pending = self._inserts.get(task)
            if pending is not None:
                pending.update(values)
            else:
                self._updates.setdefault(task, {}).update(values)

    async def flush(self, conn: AsyncConnection) -> None:
        """Write what was gathered (then forget it): one INSERT of the new rows, one
        UPDATE per set of columns (executemany)."""
        t = tables.tasks
        if self._inserts:
            await conn.execute(t.insert(), list(self._inserts.values()))
        shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for task, values in self._updates.items():
            shape = tuple(sorted(values))
            shapes.setdefault(shape, []).append(
                {"_task": task, **{f"_v_{k}": v for k, v in values.items()}}
            )
        for shape, rows in shapes.items():
            statement = (
                t.update()
                .where(t.c.task_id == bindparam("_task"))
                .values({**{k: bindparam(f"_v_{k}") for k in shape}, "updated_at": func.now()})
            )
            await conn.execute(statement, rows)
        self._inserts.clear()
        self._updates.clear()
