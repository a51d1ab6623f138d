"""A department applies its deliveries: fold the subject up to each event, plan what
the domain says is in force for the department's tasks (planning.py, pure; its
rules in transitions.py), gather the rows (task_writes.py) and write them, with the
feedback, once at the end of the pass.

One transaction per pass of one department: its cursor (locked), its tasks and its
feedback in the outbox commit together, so a crash anywhere neither loses nor
repeats a transition, and no other department is touched. An event this department
cannot apply is dead-lettered (with the department in the headers) and the
department goes on (see `advance`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from services.responder.fold_memo import Folded, FoldMemo
from services.responder.folds import SubjectFolds
from services.responder.hosting import Hosting
from services.responder.metrics import ResponderMetrics
from services.responder.planning import Emitted, plan
from services.responder.ports import Delivery, ResponderStore, ResponderUnit, TaskExists
from services.responder.task_writes import TaskWrites
from services.responder.taskbook import TaskBook
from shared.adapters.observability import correlation_id
from shared.adapters.topics import DEADLETTER, DESIGNATIONS
from shared.domain.envelope import Envelope, utc_now
from shared.domain.fold_state import SubjectState
from shared.domain.lifecycle_events import DesignationIssued
from shared.ports import OutboxMessage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Context:
    hosting: Hosting
    suffix: str = ""
    batch: int = 200
    metrics: ResponderMetrics | None = None
    memo: FoldMemo = field(default_factory=FoldMemo)
    """Subjects' folds shared by the departments' passes (fold_memo.py)."""
    cursors: dict[str, int] = field(default_factory=dict)
    """Each department's cursor as its last committed pass left it (lanes.Lanes
    `applied`: a wake for deliveries it has applied makes no pass)."""

    def applied(self, department: str) -> int:
        return self.cursors.get(department, -1)


async def advance(store: ResponderStore, department: str, ctx: Context) -> bool:
    """Apply the department's next deliveries and due clock transitions in one
    transaction. Returns True when a full batch was applied (more may be waiting).

    No savepoints: each event's (and each clock re-evaluation's) planning is pure and
    its rows are only gathered (`TaskWrites`), so an event that cannot be applied
    leaves nothing behind to roll back; it is dead-lettered and the pass goes on."""
    try:
        async with store.begin() as unit:
            applied, out, cursor = await _pass(unit, department, ctx, assume=True)
    except TaskExists:
        # A designation issued again under another event id (its tasks exist): the
        # pass assumed none and its insert failed, so nothing was written. Made again,
        # looking every designation's tasks up, it applies the issue as before.
        log.warning("%s: a pass found tasks it took for new; made again", department)
        async with store.begin() as unit:
            applied, out, cursor = await _pass(unit, department, ctx, assume=False)
    ctx.cursors[department] = cursor  # committed
    if ctx.metrics is not None:
        ctx.metrics.lane_passes.labels("work" if applied or out else "nothing").inc()
        for emitted in out:
            for kind in emitted.kinds:
                if kind == "dead_letter":
                    ctx.metrics.dead_letters.labels("department").inc()
                else:
                    ctx.metrics.feedback.labels(kind).inc()
    return applied == ctx.batch


async def _pass(
    unit: ResponderUnit, department: str, ctx: Context, *, assume: bool
) -> tuple[int, list[Emitted], int]:
    """One pass: (deliveries applied, what it emitted, the cursor it leaves).
    `assume`: a designation whose first delivery here is its issue has no task of
    the department yet, so its tasks are not looked up (`_issued`)."""
    cursor = await unit.deliveries.lock_cursor(department)
    rows = await unit.deliveries.after(department, cursor, ctx.batch)
    end = rows[-1].position if rows else cursor
    # Taken once: another lane may evict entries while this pass awaits.
    known = {(r.subject_id, r.position): ctx.memo.get(r.subject_id, r.position) for r in rows}
    unknown = {s for (s, _), folded in known.items() if folded is None}
    folds = SubjectFolds(await unit.events.history(unknown, up_to=end))
    book = TaskBook()
    new = _issued(rows, known, folds) if assume else set()
    book.assume_none(new)
    await book.load(unit.tasks, department, {r.designation_id for r in rows} - new)
    work = _Work(unit, department, ctx, book, TaskWrites(), known)
    out: list[Emitted] = []
    for row in rows:
        out.extend(await _apply_delivery(work, row, folds))
    # The clock's turn comes after the events: a task an event has just ended no
    # longer waits for it — so the events' rows are written before `due` reads wake_at.
    await work.writes.flush(unit.tasks)
    now = utc_now()
    due = await unit.tasks.due(department, now)
    if not rows and not due:
        return 0, [], end
    missing = {s for s, _ in due} - folds.subjects
    folds.include(await unit.events.history(missing, up_to=end))
    await book.load(unit.tasks, department, {d for _, d in due})
    for subject_id, designation_id in due:
        out.extend(await _apply_clock(work, subject_id, designation_id, end, now, folds))
    await work.writes.flush(unit.tasks)  # the clock's rows
    await unit.outbox.enqueue([e.message for e in out])
    if rows:
        await unit.deliveries.move_cursor(department, end)
    return len(rows), out, end


def _issued(
    rows: list[Delivery], known: dict[tuple[str, int], Folded | None], folds: SubjectFolds
) -> set[UUID]:
    """The designations whose first delivery in the pass is their issue: none of their
    tasks can exist (a designation's issue is its first event, and the department's
    tasks are only written by its passes, which take turns on its cursor), unless the
    issue was published again under another event id (then `TaskExists`, see
    `advance`). Why not look them up anyway: at a court list nearly every pass applies
    only issues, and the lookup was a statement per pass finding nothing."""
    issued: set[UUID] = set()
    seen: set[UUID] = set()
    for row in rows:
        if row.designation_id in seen:
            continue
        seen.add(row.designation_id)
        folded = known.get((row.subject_id, row.position))
        event = folds.event_at(row.subject_id, row.position) if folded is None else folded[2]
        if event is not None and event.type == DesignationIssued.TYPE:
            issued.add(row.designation_id)
    return issued


@dataclass(frozen=True)
class _Work:
    """What every step of one pass shares."""

    unit: ResponderUnit
    department: str
    ctx: Context
    book: TaskBook
    writes: TaskWrites
    known: dict[tuple[str, int], Folded | None]
    """The memo's folds of the pass's deliveries, as found at its start."""


async def _guarded(
    attempt: Callable[[], list[Emitted]],
    on_poison: Callable[[Exception], Awaitable[list[Emitted]]],
) -> list[Emitted]:
    """Plan one event (or one clock re-evaluation); what cannot be planned goes to
    `on_poison`. `attempt` is pure (fold and plan, no store): the store failing is
    never the event's fault, and fails the pass (which is retried whole)."""
    try:
        return attempt()
    except Exception as exc:
        return await on_poison(exc)


async def _apply_delivery(work: _Work, row: Delivery, folds: SubjectFolds) -> list[Emitted]:
    def attempt() -> list[Emitted]:
        folded = work.known.get((row.subject_id, row.position))
        if folded is None:
            event = folds.event_at(row.subject_id, row.position)
            if event is None:
                raise UnreadableEvent(f"the event stored at {row.position} is not an envelope")
            folded = (*folds.up_to(row.subject_id, row.position), event)
            work.ctx.memo.put(row.subject_id, row.position, folded)
        state, latest, cause = folded
        correlation_id.set(cause.correlationid or str(cause.id))
        as_of = max(latest or cause.time, cause.time)
        return apply(work, state, row.designation_id, as_of, cause)

    async def dead_letter(exc: Exception) -> list[Emitted]:
        log.exception(
            "%s cannot apply the event at %s; dead-lettered", work.department, row.position
        )
        reason = f"{type(exc).__name__}: {exc}"
        stored = await work.unit.events.stored(row.position)
        message = _dead_letter(row, stored, reason, work.department, work.ctx.suffix)
        return [Emitted(("dead_letter",), message)]

    return await _guarded(attempt, dead_letter)


async def _apply_clock(
    work: _Work,
    subject_id: str,
    designation_id: UUID,
    end: int,
    now: datetime,
    folds: SubjectFolds,
) -> list[Emitted]:
    def attempt() -> list[Emitted]:
        state, _ = folds.up_to(subject_id, end)
        return apply(work, state, designation_id, now, None)

    async def stop_waking(exc: Exception) -> list[Emitted]:
        # Never retried by the clock again (it would fail the same way); the next
        # event of the designation re-evaluates it. The pass's gathered rows first,
        # so that this update is the last word, as if each write had been immediate.
        log.exception("%s: clock transition of %s failed", work.department, designation_id)
        await work.writes.flush(work.unit.tasks)
        await work.unit.tasks.stop_waking(work.department, designation_id)
        return []

    return await _guarded(attempt, stop_waking)


def apply(
    work: _Work,
    state: SubjectState,
    designation_id: UUID,
    as_of: datetime,
    cause: Envelope | None,
) -> list[Emitted]:
    """Plan the department's tasks of one designation at `as_of` (planning.plan, pure),
    hand the rows to the pass's writer and the new task states to its book; returns
    the feedback to report. The plan is complete before anything is handed on, so a
    step that raises leaves neither the writer nor `book` half-changed."""
    record = state.designation(designation_id)
    if record is None:
        return []
    existing = work.book.of(designation_id)
    todo = plan(
        record,
        work.department,
        existing,
        work.ctx.hosting,
        as_of=as_of,
        cause=cause,
        now=utc_now(),
        views=work.ctx.memo.views,
    )
    emitted = todo.feedback(work.ctx.suffix)
    work.writes.add(todo)
    existing.update(todo.known)
    return emitted


class UnreadableEvent(ValueError):
    """A stored event that is not an envelope (written by a newer version): the
    subject's history leaves it out, and the departments it reaches dead-letter it."""


def _dead_letter(
    row: Delivery, stored: dict[str, Any] | None, reason: str, department: str, suffix: str
) -> OutboxMessage:
    return OutboxMessage(
        topic=DEADLETTER + suffix,
        key=row.subject_id,
        value=json.dumps(stored, ensure_ascii=False).encode(),
        headers={
            "jsb-reason": reason[:1000],
            "jsb-consumer": f"responder.department.{department}",
            "jsb-source-topic": DESIGNATIONS + suffix,
            "jsb-source-partition": str(row.source_partition),
            "jsb-source-offset": str(row.source_offset),
        },
    )
