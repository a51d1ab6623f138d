"""Re-rendering a subject's status after a batch touched a few of its tasks: each
task's line of the status (its `TaskStatus` and that line's JSON) is carried over
from the subject's previous refresh when its inputs are the very same objects.

Why: a court debtor's designation has ~49 tasks and its answers come over ~30
refreshes, each of which rendered, dumped and projected all 49 lines though its
batch changed one or two (py-spy of the ledger in the pipeline bench, 300 debtors:
`project_state` 23 % of the ledger's busy samples, of which `render_status` 8 % and
`model_dump` 6 %; docs/benchmarks.md, Ledger).

Why the status stays byte for byte what a full render gives: a task's line is a
function of three things only (`shared.domain.status_view.task_status`): its spec,
its answers (`TaskFeedback`) and its overdue flag at the status's instant. The fold
state is immutable, and evolving it keeps every record, spec and answer it did not
change as the same object (shared/domain/fold_state.py), so the same spec object
and the same answers object mean the same inputs: they are compared by identity,
which a kept line can trust because it holds both objects (an id cannot be reused
while its object lives). The overdue flag is compared by value: the clock moves it
while nothing else changes. The domain renders everything else of the status as
before (`render_status(task_renderer=…)`). A line's JSON is its own
`model_dump(mode="json")`, which is what a dump of the whole status makes of it; the
status document is put together from each designation's dump without its tasks and
its lines' JSON, in the models' field order (`dump_status`), so its keys come in the
order a whole dump gives and it serialises to the same bytes.

A state folded from scratch (a fold-cache miss, a rebuild) has new objects: nothing
is carried, every line is rendered. Tested against the whole render on random
histories and on the court-list workloads (tests/unit/test_ledger_task_lines.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from shared.domain.event_base import TaskSpec
from shared.domain.fold_state import TaskFeedback
from shared.domain.status_view import DesignationStatus, SubjectStatus, TaskStatus, task_status

Row = dict[str, Any]


@dataclass(slots=True)
class Line:
    """One task's line as rendered for (`spec`, `feedback`, `overdue`), its JSON (set
    once, by `dump_status`) and its projection row."""

    spec: TaskSpec
    feedback: TaskFeedback
    overdue: bool
    status: TaskStatus
    doc: Row | None = None
    row: Row | None = None
    """The task's projection row built from this line (read_models/rows.py): kept
    while the line is, and reused when the row's other inputs are the same."""


Lines = Mapping[int, Line]
"""A render's lines by the id of their spec (the spec is held by the line)."""


class TaskLines:
    """`task_status` for one render (a `TaskRenderer`), handing back the line of the
    `previous` render whose inputs are the same objects; `lines` holds every line of
    this render (the next refresh's `previous`)."""

    def __init__(self, previous: Lines | None = None) -> None:
        self._previous: Lines = {} if previous is None else previous
        self.lines: dict[int, Line] = {}
        self._by_status: dict[int, Line] = {}
        self.carried = 0
        """Lines carried over from `previous` (for tests and measurements)."""

    def __call__(self, spec: TaskSpec, feedback: TaskFeedback, overdue: bool) -> TaskStatus:
        line = self._previous.get(id(spec))
        if (
            line is not None
            and line.spec is spec
            and line.feedback is feedback
            and line.overdue == overdue
        ):
            self.carried += 1
        else:
            line = Line(spec, feedback, overdue, task_status(spec, feedback, overdue))
        self.lines[id(spec)] = line
        self._by_status[id(line.status)] = line
        return line.status

    def line(self, task: TaskStatus) -> Line | None:
        """The line this render handed out as `task`."""
        line = self._by_status.get(id(task))
        return line if line is not None and line.status is task else None

    def doc(self, task: TaskStatus) -> Row:
        """The JSON of a task's line: kept, or dumped now (and kept)."""
        line = self.line(task)
        if line is None:
            return task.model_dump(mode="json")
        if line.doc is None:
            line.doc = task.model_dump(mode="json")
        return line.doc


def dump_status(status: SubjectStatus, lines: TaskLines) -> Row:
    """`status.model_dump(mode="json")`, each task's line taken from `lines`.

    When no line was carried over (a subject's first refresh, a fold-cache miss, a
    rebuild) the status is dumped whole, in one call, and each line keeps its part
    of that dump: dumping 49 lines one by one and assembling them cost more than the
    whole dump (bench/ledger_refresh_cpu.py: 1.13x the CPU of ingest with 70 % of
    misses, before this)."""
    if lines.carried == 0:
        doc: Row = status.model_dump(mode="json")
        for view, view_doc in zip(status.designations, doc["designations"], strict=True):
            for task, task_doc in zip(view.tasks, view_doc["tasks"], strict=True):
                line = lines.line(task)
                if line is not None and line.doc is None:
                    line.doc = task_doc
        return doc
    designations = [_dump_designation(view, lines) for view in status.designations]
    top = status.model_dump(mode="json", exclude={"designations"})
    return _in_field_order(status, top, "designations", designations)


def _dump_designation(view: DesignationStatus, lines: TaskLines) -> Row:
    dumped = view.model_dump(mode="json", exclude={"tasks"})
    return _in_field_order(view, dumped, "tasks", [lines.doc(t) for t in view.tasks])


def _in_field_order(model: BaseModel, dumped: Row, name: str, value: object) -> Row:
    """`dumped` (a dump of `model` without field `name`) with `value` as `name`, every
    key where a whole dump puts it (the fields' declared order)."""
    return {field: value if field == name else dumped[field] for field in type(model).model_fields}
