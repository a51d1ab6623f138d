"""The department's tasks of the designations one pass touches: loaded and locked in
one query, kept current as the pass writes them, and the rows of new tasks."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from services.responder.ports import Known, TaskStore
from services.responder.settings import ExecutionMode
from services.responder.task_ids import TaskIds
from services.responder.task_ids import task_id as task_id  # where callers import it from
from shared.domain.event_base import TaskSpec


class TaskBook:
    """The department's tasks of the designations a pass touches, loaded (and locked)
    in one query instead of one per event, and kept current as the pass writes them."""

    def __init__(self) -> None:
        self._tasks: dict[UUID, dict[str, Known]] = {}

    async def load(self, tasks: TaskStore, department: str, designation_ids: set[UUID]) -> None:
        missing = designation_ids - self._tasks.keys()
        if missing:
            self._tasks.update(await tasks.for_update(department, missing))

    def assume_none(self, designation_ids: set[UUID]) -> None:
        """These designations have none of the department's tasks yet (not looked up:
        the pass applies their issue first). If one has, its new rows fail to insert
        (`TaskExists`) and the pass is made again without assuming (execution.advance)."""
        for designation_id in designation_ids - self._tasks.keys():
            self._tasks[designation_id] = {}

    def of(self, designation_id: UUID) -> dict[str, Known]:
        return self._tasks.setdefault(designation_id, {})


def new_task(
    department: str,
    subject_id: str,
    list_type: str,
    spec: TaskSpec,
    mode: ExecutionMode,
    designation_id: UUID,
    values: dict[str, Any],
    now: datetime,
    ids: TaskIds | None = None,
) -> dict[str, Any]:
    """The row of a new task; `ids`: the designation's (`TaskIds`), shared by the
    departments' plans, else made here."""
    ids = ids or TaskIds(designation_id)
    return {
        "task_id": ids.of(spec.measure, department),
        "department": department,
        "designation_id": designation_id,
        "measure": spec.measure,
        "subject_id": subject_id,
        "list_type": list_type,
        "mode": mode,
        "mandatory": spec.mandatory,
        "deadline": spec.deadline,
        **values,
        "updated_at": now,
    }
