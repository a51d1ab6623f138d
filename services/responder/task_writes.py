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

from services.responder.planning import Plan
from services.responder.ports import TaskStore


class TaskWrites:
    def __init__(self) -> None:
        self._inserts: dict[UUID, dict[str, Any]] = {}
        self._updates: dict[UUID, dict[str, Any]] = {}

    def __bool__(self) -> bool:
        return bool(self._inserts or self._updates)

    def add(self, todo: Plan) -> None:
        """Take the plan's rows as they are (the plan is not used after; a later update
        of a new row in the same pass changes the row itself): no copy per row."""
        for row in todo.inserts:
            self._inserts[row["task_id"]] = row
        for task, values in todo.updates:
            pending = self._inserts.get(task)
            if pending is not None:
                pending.update(values)
            else:
                self._updates.setdefault(task, {}).update(values)

    async def flush(self, tasks: TaskStore) -> None:
        """Write what was gathered (then forget it): in Postgres one INSERT of the new
        rows, one UPDATE per set of columns (pg_store.PostgresTaskStore.write)."""
        if self:
            await tasks.write(list(self._inserts.values()), self._updates)
        self._inserts = {}
        self._updates = {}
