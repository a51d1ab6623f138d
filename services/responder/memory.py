"""In-memory adapters of the responder's ports (services/responder/ports.py), for the
service layer's unit tests; they pass the same contract suites as the Postgres ones
(the check journal: tests/contracts/check_recorder.py; the store's ports:
tests/contracts/subject_events.py, delivery_log.py, task_store.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from pydantic import ValidationError

from services.responder.check_journal import CheckRecord, JournalUnavailable
from services.responder.fold_memo import Folded, at_last
from services.responder.folds import Decoded, fold_decoded
from services.responder.live_index import IndexChanges
from services.responder.ports import (
    Delivery,
    Incoming,
    Kept,
    Known,
    ResponderUnit,
    TaskExists,
    TaskRow,
)
from services.responder.restriction_index import IndexRow, subject_rows
from shared.domain.envelope import Envelope
from shared.domain.fold import Recorded
from shared.domain.wire import PoisonMessage
from shared.ports import OutboxMessage


@dataclass
class MemoryCheckJournal:
    """`CheckRecorder` in memory: a check is recorded once `record` returns; `down`
    makes it refuse, as the Postgres journal does when its group cannot commit."""

    checks: list[CheckRecord] = field(default_factory=list)
    down: bool = False

    async def record(self, check: CheckRecord) -> None:
        await asyncio.sleep(0)  # another check may be recorded meanwhile, as in a group
        if self.down:
            raise JournalUnavailable("the in-memory journal is down")
        self.checks.append(check)


@dataclass
class _Event:
    position: int
    event_id: UUID
    subject_id: str
    designation_id: UUID
    envelope: dict[str, Any]
    partition: int
    offset: int
    ingested_at: datetime


@dataclass
class _Data:
    """What a `MemoryResponderStore` holds; a transaction works on a copy of it, which
    replaces it when the transaction commits."""

    events: list[_Event] = field(default_factory=list)
    designations: dict[UUID, list[str]] = field(default_factory=dict)
    identifiers: set[tuple[str, str]] = field(default_factory=set)
    deliveries: set[tuple[str, int]] = field(default_factory=set)
    cursors: dict[str, int] = field(default_factory=dict)
    tasks: dict[UUID, dict[str, Any]] = field(default_factory=dict)
    index: dict[str, list[IndexRow]] = field(default_factory=dict)
    outbox: list[tuple[int, OutboxMessage, bool]] = field(default_factory=list)

    def copy(self) -> _Data:
        """A copy a transaction may change without touching this one: the containers
        are copied, and the task rows (changed in place); the rest is never changed
        in place (events, outbox rows and index rows are replaced, not edited)."""
        return _Data(
            events=list(self.events),
            designations=dict(self.designations),
            identifiers=set(self.identifiers),
            deliveries=set(self.deliveries),
            cursors=dict(self.cursors),
            tasks={k: dict(v) for k, v in self.tasks.items()},
            index=dict(self.index),
            outbox=list(self.outbox),
        )


class MemorySubjectEvents:
    def __init__(self, tx: _Tx) -> None:
        self._tx = tx

    async def take_ingest_turn(self) -> None:
        """Every memory transaction has the store to itself: the turn is its own."""

    async def departments_of(self, designation_id: UUID) -> set[str] | None:
        found = self._tx.data.designations.get(designation_id)
        return None if found is None else set(found)

    async def departments_of_many(self, designation_ids: Collection[UUID]) -> dict[UUID, set[str]]:
        found = {d: await self.departments_of(d) for d in designation_ids}
        return {d: departments for d, departments in found.items() if departments is not None}

    async def keep(
        self,
        designation_id: UUID,
        subject_id: str,
        departments: Collection[str],
        identifiers: Collection[str],
    ) -> None:
        self._tx.data.designations.setdefault(designation_id, sorted(departments))
        self._tx.data.identifiers.update((v, subject_id) for v in identifiers)

    async def keep_many(self, kept: Sequence[Kept]) -> None:
        for k in kept:
            await self.keep(k.designation_id, k.subject_id, k.departments, k.identifiers)

    async def widen(self, designation_id: UUID, departments: Collection[str]) -> None:
        if designation_id in self._tx.data.designations:
            self._tx.data.designations[designation_id] = sorted(departments)

    async def append(
        self, envelope: Envelope, designation_id: UUID, partition: int, offset: int
    ) -> int | None:
        if any(e.event_id == envelope.id for e in self._tx.data.events):
            return None
        position = self._tx.store.next_position()
        self._tx.data.events.append(
            _Event(
                position,
                envelope.id,
                envelope.subject,
                designation_id,
                envelope.model_dump(mode="json"),
                partition,
                offset,
                datetime.now(UTC),
            )
        )
        return position

    async def append_many(self, events: Sequence[Incoming]) -> list[int | None]:
        return [
            await self.append(e.envelope, e.designation_id, e.partition, e.offset) for e in events
        ]

    async def history(
        self, subject_ids: Iterable[str], up_to: int | None = None
    ) -> dict[str, list[Recorded]]:
        out: dict[str, list[Recorded]] = {s: [] for s in sorted(set(subject_ids))}
        for e in self._tx.data.events:
            if e.subject_id in out and (up_to is None or e.position <= up_to):
                try:
                    envelope = Envelope.model_validate(e.envelope)
                except ValidationError:  # unreadable: left out of every fold, as in Postgres
                    continue
                out[e.subject_id].append(Recorded(envelope, e.ingested_at, e.position))
        return out

    async def subjects_of(self, identifier: str) -> list[str]:
        return sorted(s for v, s in self._tx.data.identifiers if v == identifier)

    async def stored(self, position: int) -> dict[str, Any] | None:
        return next((e.envelope for e in self._tx.data.events if e.position == position), None)


class MemoryDeliveryLog:
    def __init__(self, tx: _Tx) -> None:
        self._tx = tx

    async def deliver(self, position: int, departments: Collection[str]) -> None:
        self._tx.data.deliveries.update((d, position) for d in departments)

    async def deliver_many(self, deliveries: Sequence[tuple[int, Collection[str]]]) -> None:
        for position, departments in deliveries:
            await self.deliver(position, departments)

    async def ensure(self, departments: Iterable[str]) -> None:
        for d in departments:
            self._tx.data.cursors.setdefault(d, 0)

    async def lock_cursor(self, department: str) -> int:
        return self._tx.data.cursors[department]

    async def after(self, department: str, position: int, limit: int) -> list[Delivery]:
        data = self._tx.data
        wanted = {p for d, p in data.deliveries if d == department and p > position}
        return [
            Delivery(e.position, e.subject_id, e.designation_id, e.partition, e.offset)
            for e in data.events
            if e.position in wanted
        ][:limit]

    async def move_cursor(self, department: str, position: int) -> None:
        data = self._tx.data
        data.cursors[department] = position
        data.deliveries = {(d, p) for d, p in data.deliveries if d != department or p > position}

    async def cursor(self, department: str) -> int:
        return self._tx.data.cursors.get(department, 0)

    async def pending(self, departments: Iterable[str], now: datetime) -> list[str]:
        data = self._tx.data
        unread = {d for d, p in data.deliveries if p > data.cursors.get(d, 0)}
        waking = {
            t["department"]
            for t in data.tasks.values()
            if t["wake_at"] is not None and t["wake_at"] <= now
        }
        return sorted(d for d in set(departments) & (unread | waking) if d in data.cursors)


_TASK_DEFAULTS: dict[str, Any] = {
    "note": "",
    "answered_at": None,
    "resume_to": None,
    "wake_at": None,
    "last_event_id": None,
}
"""The columns Postgres fills when an insert leaves them out."""


class MemoryTaskStore:
    def __init__(self, tx: _Tx) -> None:
        self._tx = tx

    async def for_update(
        self, department: str, designation_ids: Iterable[UUID]
    ) -> dict[UUID, dict[str, Known]]:
        out: dict[UUID, dict[str, Known]] = {d: {} for d in sorted(set(designation_ids))}
        for t in self._tx.data.tasks.values():
            if t["department"] == department and t["designation_id"] in out:
                known = Known(t["task_id"], t["mode"], t["state"], t["resume_to"])
                out[t["designation_id"]][t["measure"]] = known
        return out

    async def write(
        self, inserts: Sequence[Mapping[str, Any]], updates: Mapping[UUID, Mapping[str, Any]]
    ) -> None:
        tasks, now = self._tx.data.tasks, self._tx.now  # now(): the transaction's start
        for row in inserts:
            if row["task_id"] in tasks:
                raise TaskExists(f"task {row['task_id']} exists")  # a primary key violation
            tasks[row["task_id"]] = {
                **_TASK_DEFAULTS,
                "created_at": now,
                "updated_at": now,
                **row,
            }
        for task_id, values in updates.items():
            if task_id in tasks:
                tasks[task_id].update({"updated_at": now, **values})

    async def due(self, department: str, now: datetime) -> list[tuple[str, UUID]]:
        return sorted(
            {
                (t["subject_id"], t["designation_id"])
                for t in self._tx.data.tasks.values()
                if t["department"] == department
                and t["wake_at"] is not None
                and t["wake_at"] <= now
            }
        )

    async def stop_waking(self, department: str, designation_id: UUID) -> None:
        for t in self._tx.data.tasks.values():
            if t["department"] == department and t["designation_id"] == designation_id:
                t["wake_at"] = None

    async def listed(
        self, department: str, state: str | None, designation_id: UUID | None, limit: int
    ) -> list[TaskRow]:
        rows = [
            t
            for t in self._tx.data.tasks.values()
            if t["department"] == department
            and (state is None or t["state"] == state)
            and (designation_id is None or t["designation_id"] == designation_id)
        ]
        rows.sort(key=lambda t: (t["created_at"], t["task_id"]))
        return [TaskRow(**t) for t in rows[:limit]]

    async def get(self, department: str, task_id: UUID, *, lock: bool) -> TaskRow | None:
        t = self._tx.data.tasks.get(task_id)
        return None if t is None or t["department"] != department else TaskRow(**t)


class MemoryIndexWriter:
    """The restriction index as the Postgres one computes it (restriction_index.py)."""

    def __init__(self, tx: _Tx, events: MemorySubjectEvents) -> None:
        self._tx = tx
        self._events = events

    async def refresh(
        self, subjects: Iterable[str], departments: frozenset[str], decoded: Decoded | None = None
    ) -> IndexChanges:
        written: dict[str, list[IndexRow]] = {}
        folds: dict[str, tuple[int, Folded]] = {}
        for subject, events in (await self._events.history(subjects)).items():
            try:
                state = fold_decoded(events, subject, decoded)
            except (PoisonMessage, ValueError):  # left as it was, as in Postgres
                continue
            written[subject] = subject_rows(state, departments)
            folded = at_last(events, state)
            if folded is not None:
                folds[subject] = folded
        self._tx.data.index.update(written)
        return IndexChanges(rows=written, folds=folds)


class MemoryUnitOutbox:
    """`Outbox` on the store's outbox rows (id, message, published)."""

    def __init__(self, tx: _Tx) -> None:
        self._tx = tx

    async def enqueue(self, messages: Sequence[OutboxMessage]) -> None:
        rows = self._tx.data.outbox
        first = len(rows) + 1
        rows.extend((first + i, m, False) for i, m in enumerate(messages))

    async def pending(self, limit: int) -> list[tuple[int, OutboxMessage]]:
        return [(i, m) for i, m, published in self._tx.data.outbox if not published][:limit]

    async def mark_published(self, ids: Sequence[int]) -> None:
        done = set(ids)
        self._tx.data.outbox = [(i, m, p or i in done) for i, m, p in self._tx.data.outbox]


@dataclass
class _Tx:
    store: MemoryResponderStore
    data: _Data
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def unit(self) -> ResponderUnit:
        events = MemorySubjectEvents(self)
        return ResponderUnit(
            events=events,
            deliveries=MemoryDeliveryLog(self),
            tasks=MemoryTaskStore(self),
            index=MemoryIndexWriter(self, events),
            outbox=MemoryUnitOutbox(self),
        )


class MemoryResponderStore:
    """`ResponderStore` in memory, for the service layer's unit tests. One transaction
    at a time (the Postgres locks — the ingest's turn, a department's cursor, a task
    row — only ever make writers take turns, and here every writer does); a
    transaction works on a copy that replaces the data when it commits, so one that
    raises leaves nothing behind. Positions, like an identity column, are never
    reused, even when a transaction rolls back."""

    def __init__(self) -> None:
        self.data = _Data()
        self._turn = asyncio.Lock()
        self._last_position = 0

    def next_position(self) -> int:
        self._last_position += 1
        return self._last_position

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[ResponderUnit]:
        async with self._turn:
            tx = _Tx(self, self.data.copy())
            yield tx.unit()
            self.data = tx.data

    @property
    def messages(self) -> list[OutboxMessage]:
        """Everything committed to the outbox, in order."""
        return [m for _, m, _ in self.data.outbox]

    def tasks(self, department: str | None = None) -> list[TaskRow]:
        """Committed tasks, by department and measure."""
        rows = [TaskRow(**t) for t in self.data.tasks.values()]
        rows = [r for r in rows if department is None or r.department == department]
        return sorted(rows, key=lambda r: (r.department, r.measure, r.task_id))
