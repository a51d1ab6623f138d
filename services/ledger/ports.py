"""The ledger's event store as a port: append in turns, read streams and the global
order. Adapters: store.py (Postgres, the append lock explained there) and
memory.py (in memory); both pass tests/contracts/event_store.py, including the
test that concurrent writers never let a tailing reader skip a position."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from services.ledger.store import SourceRef, StoredEvent
from shared.domain.envelope import Envelope
from shared.ports import Transactions


class EventAppender(Protocol):
    """Appends inside one transaction; what it appends becomes visible when the
    transaction commits, and positions become visible in order."""

    async def append(self, batch: Sequence[tuple[Envelope, SourceRef | None]]) -> list[StoredEvent]:
        """Append the batch with each stream's hash chain; duplicates (same event
        id, within the batch or stored) are dropped. Returns what was appended."""


class EventStore(Transactions[EventAppender], Protocol):
    async def stream(self, stream_id: str, after_version: int = 0) -> list[StoredEvent]:
        """One stream's committed events after `after_version`, in stream order."""

    async def after(self, position: int, limit: int) -> list[StoredEvent]:
        """Committed events after `position`, in global order."""
