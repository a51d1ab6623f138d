"""What the responder's service layer needs, as ports (issue 10).

The check path: `CheckRecorder` (check_journal.CheckJournal in Postgres,
memory.MemoryCheckJournal) and `RestrictionLookup` (the table lookup of index_store,
live_index.LiveIndex). Contract suite: tests/contracts/check_recorder.py.

The ingest, the departments' passes and the inbox, each inside one transaction
(`ResponderUnit`, opened by a `ResponderStore`):

- `SubjectEvents`: the kept lifecycle events per subject, in ingest order, and what
  the ingest keeps of designations (the departments they concern) and identifiers;
- `DeliveryLog`: each department's reading list of stored events and its cursor;
- `TaskStore`: the departments' tasks (the pass's task book, the clock, the inbox);
- `IndexWriter`: the restriction index rewritten for subjects whose events changed;
- `Outbox` (shared/ports.py): feedback and dead letters, published once committed.

Adapters: pg_store.py (Postgres) and memory.py (in memory). One contract suite per
port (tests/contracts/subject_events.py, delivery_log.py, task_store.py) runs
against both, including the concurrent-writer cases.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple, Protocol
from uuid import UUID

from services.responder.check_journal import CheckRecord
from services.responder.folds import Decoded
from services.responder.live_index import IndexChanges
from services.responder.restriction_index import Found
from services.responder.settings import ExecutionMode
from shared.domain.envelope import Envelope
from shared.domain.fold import Recorded
from shared.ports import Outbox, Transactions


class CheckRecorder(Protocol):
    """Records a check — its row, and a block's interceptions for the outbox — and
    returns only once that is durable; raises `JournalUnavailable` (nothing recorded)
    otherwise. A check is answered only after `record` returned."""

    async def record(self, check: CheckRecord) -> None: ...


class RestrictionLookup(Protocol):
    """What a check reads: the subjects known by an identifier, and the sanction
    measures the department enforces on them at `at` (POSIX seconds), in fold order."""

    def lookup(
        self, identifier: str, department: str, measures: Collection[str], at: float
    ) -> Found: ...


@dataclass(frozen=True)
class Delivery:
    """A stored event on a department's reading list. Not its envelope: the pass
    reads that with the subject's history, once for every department (fold_memo.py)."""

    position: int
    subject_id: str
    designation_id: UUID
    source_partition: int
    source_offset: int


class Known(NamedTuple):
    """What a pass knows of one task (the row as locked, then as this pass left it).
    A tuple, not a frozen dataclass: one is made per task a pass plans (48 per court
    designation), and a frozen dataclass's `__init__` was ~1.1 us against ~0.4."""

    task_id: UUID
    mode: ExecutionMode
    state: str
    resume_to: str | None


@dataclass(frozen=True)
class TaskRow:
    """A task as the inbox shows it (every column of the task)."""

    task_id: UUID
    department: str
    designation_id: UUID
    measure: str
    subject_id: str
    subject_name: str
    list_type: str
    mode: str
    state: str
    resume_to: str | None
    mandatory: bool
    deadline: date
    wake_at: datetime | None
    last_event_id: UUID | None
    last_event_type: str
    note: str
    answered_at: datetime | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Kept:
    """A designation the ingest keeps: the hosted departments it concerns and every
    identifier of its subject a check may use."""

    designation_id: UUID
    subject_id: str
    departments: Collection[str]
    identifiers: Collection[str]


@dataclass(frozen=True)
class Incoming:
    """An event the ingest stores: where it came from (partition, offset)."""

    envelope: Envelope
    designation_id: UUID
    partition: int
    offset: int


class SubjectEvents(Protocol):
    """The kept lifecycle events, per subject in ingest order (`position`), and what
    the ingest keeps of designations and identifiers."""

    async def take_ingest_turn(self) -> None:
        """Held until the transaction ends: a second ingest transaction waits, so
        positions become visible in order (a reader "after my cursor" skips none)."""

    async def departments_of(self, designation_id: UUID) -> set[str] | None:
        """The hosted departments a kept designation concerns; None: not kept."""

    async def departments_of_many(self, designation_ids: Collection[UUID]) -> dict[UUID, set[str]]:
        """`departments_of` for several: an entry for each kept one only."""

    async def keep(
        self,
        designation_id: UUID,
        subject_id: str,
        departments: Collection[str],
        identifiers: Collection[str],
    ) -> None:
        """Keep a designation (a second `keep` of it changes nothing) and index the
        subject's identifiers."""

    async def keep_many(self, kept: Sequence[Kept]) -> None:
        """`keep` for each, in one go."""

    async def widen(self, designation_id: UUID, departments: Collection[str]) -> None:
        """The kept designation now concerns `departments` (an amendment's)."""

    async def append(
        self, envelope: Envelope, designation_id: UUID, partition: int, offset: int
    ) -> int | None:
        """Store the event; its position, or None when its id is already stored."""

    async def append_many(self, events: Sequence[Incoming]) -> list[int | None]:
        """`append` for each in order, in one go: positions ascending in that order,
        None for an id already stored (or met earlier among `events`)."""

    async def history(
        self, subject_ids: Iterable[str], up_to: int | None = None
    ) -> dict[str, list[Recorded]]:
        """Each subject's stored events (up to a position) in position order; an
        entry for every subject asked, empty if none. Unreadable events are left out."""

    async def subjects_of(self, identifier: str) -> list[str]:
        """The subjects known by `identifier`, sorted."""

    async def stored(self, position: int) -> dict[str, Any] | None:
        """The event stored at `position` as stored (JSON), readable or not."""


class DeliveryLog(Protocol):
    """Each hosted department's reading list (stored events that concern it) and its
    cursor (the last position it applied)."""

    async def deliver(self, position: int, departments: Collection[str]) -> None: ...

    async def deliver_many(self, deliveries: Sequence[tuple[int, Collection[str]]]) -> None:
        """`deliver` for each (position, departments), in one go."""

    async def ensure(self, departments: Iterable[str]) -> None:
        """A cursor at 0 for each department that has none."""

    async def lock_cursor(self, department: str) -> int:
        """The department's cursor, held until the transaction ends: a second pass of
        the department waits for this one's outcome."""

    async def after(self, department: str, position: int, limit: int) -> list[Delivery]:
        """The department's deliveries after `position`, in position order."""

    async def move_cursor(self, department: str, position: int) -> None:
        """The cursor moves to `position`; deliveries up to it are done (dropped)."""

    async def cursor(self, department: str) -> int: ...

    async def pending(self, departments: Iterable[str], now: datetime) -> list[str]:
        """Those of `departments` that have a cursor and deliveries beyond it, or a
        task due by `now` (in no particular order)."""


class TaskExists(Exception):
    """A task inserted with the id of a stored one (the transaction cannot commit)."""


class TaskStore(Protocol):
    """The departments' tasks, one per (department, designation, measure)."""

    async def for_update(
        self, department: str, designation_ids: Iterable[UUID]
    ) -> dict[UUID, dict[str, Known]]:
        """The department's tasks of these designations by measure (an entry for each
        designation asked), held until the transaction ends (an officer's answer holds
        the same)."""

    async def write(
        self, inserts: Sequence[Mapping[str, Any]], updates: Mapping[UUID, Mapping[str, Any]]
    ) -> None:
        """Insert new task rows; set the given columns of existing tasks (`updated_at`
        now, unless given). A new row whose task id is stored raises `TaskExists`."""

    async def due(self, department: str, now: datetime) -> list[tuple[str, UUID]]:
        """(subject, designation) of the department's tasks whose `wake_at` ≤ `now`."""

    async def stop_waking(self, department: str, designation_id: UUID) -> None:
        """No clock re-evaluation for the department's tasks of the designation."""

    async def listed(
        self, department: str, state: str | None, designation_id: UUID | None, limit: int
    ) -> list[TaskRow]:
        """The department's tasks, oldest first (created, then task id)."""

    async def get(self, department: str, task_id: UUID, *, lock: bool) -> TaskRow | None:
        """The department's task (None for another department's); `lock`: held until
        the transaction ends."""


class IndexWriter(Protocol):
    async def refresh(
        self, subjects: Iterable[str], departments: frozenset[str], decoded: Decoded | None = None
    ) -> IndexChanges:
        """Rewrite the restriction index of `subjects` from their stored events (the
        caller holds the ingest turn); what was written. `decoded`: the stored events
        the caller has decoded already (folds.Decoded), taken as they are."""


@dataclass(frozen=True)
class ResponderUnit:
    """The responder's ports inside one transaction: all commit or none."""

    events: SubjectEvents
    deliveries: DeliveryLog
    tasks: TaskStore
    index: IndexWriter
    outbox: Outbox


ResponderStore = Transactions[ResponderUnit]
"""Opens the responder's transactions."""
