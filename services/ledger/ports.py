"""The ledger's ports.

- The event store: append in turns, read streams and the global order. Adapters:
  store.py (Postgres, the append lock explained there) and memory.py (in memory);
  both pass tests/contracts/event_store.py, including the test that concurrent
  writers never let a tailing reader skip a position.
- What ingest needs inside the consumer's transaction (`IngestTransaction`: the
  appender, the read models, the outbox). Adapters: ingest_postgres.py and memory.py;
  both pass tests/contracts/ledger_projections.py, and ingest runs on the in-memory
  one without Postgres (tests/unit/test_ledger_ingest_memory.py).
- The projection queue and the lookups ingest writes beside the events, which the
  projector (projector.py) works off. Adapters: projection_queue.py and memory.py;
  both pass tests/contracts/projection_queue.py."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from services.ledger.read_models.changed_rows import Written
from services.ledger.read_models.rows import Row, SubjectProjection
from services.ledger.store import SourceRef, StoredEvent
from shared.domain.envelope import Envelope
from shared.ports import Outbox, Transactions


class EventAppender(Protocol):
    """Appends inside one transaction; what it appends becomes visible when the
    transaction commits, and positions become visible in order."""

    async def append(self, batch: Sequence[tuple[Envelope, SourceRef | None]]) -> list[StoredEvent]:
        """Append the batch with each stream's hash chain; duplicates (same event
        id, within the batch or stored) are dropped. Returns what was appended."""


class EventStore(Transactions[EventAppender], Protocol):
    async def stream(
        self, stream_id: str, after_version: int = 0, limit: int | None = None
    ) -> list[StoredEvent]:
        """One stream's committed events after `after_version`, in stream order, at
        most `limit` of them (None: all)."""

    async def visible_stream(
        self, stream_id: str, as_of: datetime, known_at: datetime, after_version: int = 0
    ) -> list[StoredEvent]:
        """The events of `stream(stream_id, after_version)` effective by `as_of`
        (`effective_at`) and recorded by `known_at`: the domain's `visible` on the
        stored columns, so a status read skips the rest without decoding it (stream
        versions then have gaps where events were left out)."""

    async def after(self, position: int, limit: int) -> list[StoredEvent]:
        """Committed events after `position`, in global order."""


class Projections(Protocol):
    """The read models inside one ingest transaction (read_models/refresh.py)."""

    async def streams(self, subjects: Sequence[str]) -> dict[str, list[StoredEvent]]:
        """Each subject's stored events, this transaction's included, in stream order
        (an empty list for a subject with none)."""

    async def write(
        self,
        projections: Sequence[SubjectProjection],
        previous: Mapping[str, Written],
        subjects: Sequence[str] = (),
    ) -> dict[str, Written]:
        """Make the stored rows of `projections` (and of `subjects`, which may have
        none any more) what they say. `previous`: snapshots of what may be stored for
        a subject, used only if its stored head is still theirs. Returns the snapshot
        of what was written, per subject."""

    async def rows(self, subject_id: str) -> dict[str, list[Row]]:
        """A subject's stored rows, per projection table name (for reads and tests)."""

    async def heads(self, subjects: Sequence[str]) -> dict[str, int]:
        """The head position each subject's stored rows were projected at (subjects
        without rows left out)."""


@dataclass(frozen=True, slots=True)
class Queued:
    """A subject whose projection is behind its events up to `last_position`."""

    subject_id: str
    last_position: int
    queued_at: datetime
    touched_at: datetime | None = None
    """When a batch last queued it (None: not told)."""


@dataclass(frozen=True, slots=True)
class QueueDepth:
    subjects: int
    oldest: datetime | None
    """When the oldest queued subject was queued (None: the queue is empty)."""


class ProjectionQueue(Protocol):
    """The subjects whose projection rows are behind their events (projector.py)."""

    async def enqueue(self, heads: Mapping[str, int]) -> None:
        """Queue each subject with the position of its latest appended event, in the
        order of `heads` (the order the batch touched them); a subject already queued
        keeps its place and the greater position."""

    async def take(
        self, limit: int, min_age_s: float = 0.0, quiet_s: float | None = None
    ) -> list[Queued]:
        """Wait for the projection turn (held until the transaction ends: one projector
        at a time, and a rebuild waits for it), then the first `limit` queued
        subjects, in the order they were first queued, that were first queued at
        least `min_age_s` ago or (with `quiet_s`) that no batch has queued again for
        `quiet_s`."""

    async def done(self, heads: Mapping[str, int]) -> list[str]:
        """Unqueue each subject whose queued position is at most its projected head
        (`heads`): one queued again meanwhile, past that head, stays. Returns the
        subjects unqueued."""

    async def depth(self) -> QueueDepth:
        """How many subjects are queued, and since when the oldest."""


@dataclass(frozen=True, slots=True)
class LookupEntry:
    """An issued designation as the lookups see it: its subject and the keys it names
    (read_models/rows.keys_of of the subject id, its own subject id and identifiers)."""

    designation_id: UUID
    subject_id: str
    keys: tuple[str, ...]


class Lookups(Protocol):
    """Identifier → subject and designation → subject, written with the events."""

    async def add(self, entries: Sequence[LookupEntry]) -> None:
        """Add each entry whose designation is new for its subject: its (designation,
        subject) pair and its (key, subject) pairs. A designation issued again for the
        same subject adds nothing (the fold keeps the first: shared/domain/fold_handlers)."""


class IngestTransaction(Protocol):
    """What ingest (ingest.py) and the projector (projector.py) need inside one
    transaction: what it appends, queues, writes and enqueues is kept together or not
    at all."""

    @property
    def events(self) -> EventAppender: ...

    @property
    def projections(self) -> Projections: ...

    @property
    def outbox(self) -> Outbox: ...

    @property
    def queue(self) -> ProjectionQueue: ...

    @property
    def lookups(self) -> Lookups: ...
