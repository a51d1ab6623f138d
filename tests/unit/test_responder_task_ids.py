"""A designation's task ids made from their shared hash (task_ids.TaskIds) are the
ids `task_id` derives (uuid5 of the task's name), for any designation, measure and
department."""

from __future__ import annotations

from uuid import UUID

from hypothesis import given
from hypothesis import strategies as st

from services.responder.task_ids import TaskIds, task_id

codes = st.text(min_size=1, max_size=40)


@given(st.uuids(), codes, codes)
def test_the_same_id_as_task_id(designation_id: UUID, measure: str, department: str) -> None:
    ids = TaskIds(designation_id)
    assert ids.of(measure, department) == task_id(designation_id, measure, department)
    assert ids.of(measure, department).version == 5


def test_one_designations_ids_stay_apart() -> None:
    ids = TaskIds(UUID(int=1))
    made = {ids.of(m, d) for m in ("a", "b", "c") for d in ("x", "y", "z")}
    assert len(made) == 9
    assert TaskIds(UUID(int=2)).of("a", "x") not in made
