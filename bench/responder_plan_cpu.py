"""The Python CPU of one court designation's issue in every department's pass, without
a database: `python -m bench.responder_plan_cpu [repeats]`.

For each of the 31 departments of a court bundle: plan the issue (`planning.plan`,
with the views the departments share), make its feedback message, hand its rows to
the pass's writer (`TaskWrites`) and flush them through `PostgresTaskStore.write` to
a connection that only takes the COPY's records (so the rows' Python side is
counted, not the driver's encoding). Prints the best of `repeats` runs, µs per court
designation. For a before/after, run it with another checkout first on the path
(`cd OTHER && PYTHONPATH=OTHER python THIS/bench/responder_plan_cpu.py`). Figures:
docs/benchmarks.md, "The responder's work per debtor (fifth pass)"."""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any
from uuid import UUID

from services.responder.fold_memo import FoldMemo
from services.responder.pg_store import PostgresTaskStore
from services.responder.planning import plan
from services.responder.task_writes import TaskWrites
from shared.domain.envelope import utc_now
from shared.domain.fold import Recorded, fold
from tests.support.recording_connection import Recorder
from tests.support.responder_harness import hosting, issue_command, run
from tests.support.subjects import new_resident_id
from tests.unit.domain_fixtures import Subject


class _Taker(Recorder):
    """Takes the COPY's records and keeps only their count."""

    rows = 0

    async def copy_records_to_table(
        self, table: str, *, records: list[tuple[Any, ...]], columns: tuple[str, ...]
    ) -> None:
        self.rows += len(records)


async def once(designations: int) -> float:
    """µs of CPU per court designation, over `designations` new ones."""
    where = hosting()
    cases = []
    for _ in range(designations):
        person = Subject(new_resident_id())
        (issued,) = run(person, issue_command(person.subject_id, "court.dishonest-debtor", "court"))
        state = fold([Recorded(issued, issued.time, 1)], person.subject_id)
        record = state.designation(UUID(issued.data["designation_id"]))
        assert record is not None
        departments = sorted({t["department"] for t in issued.data["tasks"]})
        cases.append((record, issued, departments))
    memo = FoldMemo()
    conn = _Taker()
    store = PostgresTaskStore(conn)  # type: ignore[arg-type]
    started = time.process_time()
    for record, issued, departments in cases:
        for department in departments:
            writes = TaskWrites()
            todo = plan(
                record,
                department,
                {},
                where,
                as_of=issued.time,
                cause=issued,
                now=utc_now(),
                views=memo.views,
            )
            todo.feedback()
            writes.add(todo)
            await writes.flush(store)
    spent = time.process_time() - started
    assert conn.rows == sum(len(record.data.tasks) for record, _, _ in cases)
    return spent / designations * 1e6


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    best = min(asyncio.run(once(200)) for _ in range(repeats))
    print(f"court designation in 31 departments: {best:.0f} us (best of {repeats})")


if __name__ == "__main__":
    main()
