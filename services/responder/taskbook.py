"""The department's tasks of the designations one pass touches: loaded and locked in
one query, kept current as the pass writes them, and the rows of new tasks."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from services.responder.ports import Known, TaskStore
from services.responder.settings import ExecutionMode
from shared.domain.event_base import TaskSpec


def task_id(designation_id: UUID, measure: str, department: str) -> UUID:
    """Derived, so that a replay or a second instance names the same task."""
    return uuid5(NAMESPACE_URL, f"urn:jsb:task:{designation_id}:{measure}:{department}")


class TaskBook:
    """The department's tasks of the designations a pass touches, loaded (and locked)
    in one query instead of one per event, and kept current as the pass writes them."""

    def __init__(self) -> None:
        self._tasks: dict[UUID, dict[str, Known]] = {}

    async def load(self, tasks: TaskStore, department: str, designation_ids: set[UUID]) -> None:
        missing = designation_ids - self._tasks.keys()
        if missing:
            self._tasks.update(await tasks.for_update(department, missing))

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
) -> dict[str, Any]:
    return {
        "task_id": task_id(designation_id, spec.measure, department),
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
