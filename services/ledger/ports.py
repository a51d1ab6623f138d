"""The ledger's ports.

- The event store: append in turns, read streams and the global order. Adapters:
  store.py (Postgres, the append lock explained there) and memory.py (in memory);
  both pass tests/contracts/event_store.py, including the test that concurrent
  writers never let a tailing reader skip a position.
- What ingest needs inside the consumer's transaction (`IngestTransaction`: the
  appender, the read models, the outbox). Adapters: ingest_postgres.py and memory.py;
  both pass tests/contracts/ledger_projections.py, and ingest runs on the in-memory
  one without Postgres (tests/unit/test_ledger_ingest_memory.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

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


class IngestTransaction(Protocol):
    """What ingest (ingest.py) needs inside the consumer's transaction: what it
    appends, writes and enqueues is kept together or not at all."""

    @property
    def events(self) -> EventAppender: ...

    @property
    def projections(self) -> Projections: ...

    @property
    def outbox(self) -> Outbox: ...
