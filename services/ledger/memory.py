"""The ledger's event store in memory (the `EventStore` port of ports.py), and the
ports ingest and the projector need (`IngestTransaction`: `MemoryLedger`), for unit
tests of the service layer. It keeps the Postgres store's guarantees
(services/ledger/store.py): one writer's turn at a time from its first append until
its transaction ends — so positions become visible in order — duplicates dropped by
event id, one hash chain per stream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from uuid import UUID

from services.ledger import tables
from services.ledger.canonical import stored_form
from services.ledger.ports import LookupEntry, Queued, QueueDepth
from services.ledger.read_models.changed_rows import Written, rows_of, snapshot
from services.ledger.read_models.rows import Row, SubjectProjection
from services.ledger.store import GENESIS, SourceRef, StoredEvent, link_hash
from shared.adapters.memory import MemoryOutbox, MemoryOutboxStore
from shared.domain.envelope import Envelope


class MemoryEventAppender:
    def __init__(self, store: MemoryEventStore) -> None:
        self._store = store
        self._turn = False
        self.appended: list[StoredEvent] = []

    async def append(self, batch: Sequence[tuple[Envelope, SourceRef | None]]) -> list[StoredEvent]:
        if not batch:
            return []
        if not self._turn:  # held until the transaction ends, as the advisory lock is
            await self._store.turn.acquire()
            self._turn = True
        known = {e.event_id for e in (*self._store.events, *self.appended)}
        out: list[StoredEvent] = []
        for env, src in batch:
            if env.id in known:
                continue
            known.add(env.id)
            version, prev = self._head(env.subject)
            payload, payload_json, exact = stored_form(env)
            event = StoredEvent(
                position=self._store.next_position(),
                event_id=env.id,
                stream=env.subject,
                stream_version=version + 1,
                type=env.type,
                schema_version=env.schemaversion,
                effective_at=env.time,
                recorded_at=datetime.now(UTC),
                payload=payload,
                prev_hash=prev,
                hash=link_hash(prev, env.subject, version + 1, payload_json),
                source=src,
                envelope=env if exact else None,
            )
            self.appended.append(event)
            out.append(event)
        return out

    def _head(self, stream: str) -> tuple[int, str]:
        for e in reversed((*self._store.events, *self.appended)):
            if e.stream == stream:
                return e.stream_version, e.hash
        return 0, GENESIS

    def _end(self, commit: bool) -> None:
        if commit:
            self._store.events.extend(self.appended)
        if self._turn:
            self._store.turn.release()
            self._turn = False


class MemoryEventStore:
    def __init__(self) -> None:
        self.events: list[StoredEvent] = []
        """Committed events, in position order."""
        self.turn = asyncio.Lock()
        self._last_position = 0

    def next_position(self) -> int:
        """Like an identity column: allocated at insert, never reused (even when the
        transaction rolls back)."""
        self._last_position += 1
        return self._last_position

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[MemoryEventAppender]:
        tx = MemoryEventAppender(self)
        try:
            yield tx
        except BaseException:
            tx._end(commit=False)
            raise
        tx._end(commit=True)

    async def stream(
        self, stream_id: str, after_version: int = 0, limit: int | None = None
    ) -> list[StoredEvent]:
        found = [
            e for e in self.events if e.stream == stream_id and e.stream_version > after_version
        ]
        return found if limit is None else found[:limit]

    async def visible_stream(
        self, stream_id: str, as_of: datetime, known_at: datetime, after_version: int = 0
    ) -> list[StoredEvent]:
        return [
            e
            for e in await self.stream(stream_id, after_version)
            if e.effective_at <= as_of and e.recorded_at <= known_at
        ]

    async def after(self, position: int, limit: int) -> list[StoredEvent]:
        return [e for e in self.events if e.position > position][:limit]


class MemoryProjections:
    """The `Projections` port in one transaction of a `MemoryLedger`: a subject's rows
    are replaced as a whole (the Postgres adapter writes only what changed; the
    stored rows are the same, tests/contracts/ledger_projections.py)."""

    def __init__(self, ledger: MemoryLedger, appender: MemoryEventAppender) -> None:
        self._ledger = ledger
        self._appender = appender
        self._new: dict[str, dict[str, list[Row]] | None] = {}

    async def streams(self, subjects: Sequence[str]) -> dict[str, list[StoredEvent]]:
        wanted = set(subjects)
        out: dict[str, list[StoredEvent]] = {s: [] for s in subjects}
        for e in (*self._ledger.events.events, *self._appender.appended):
            if e.stream in wanted:
                out[e.stream].append(e)
        return out

    async def write(
        self,
        projections: Sequence[SubjectProjection],
        previous: Mapping[str, Written],
        subjects: Sequence[str] = (),
    ) -> dict[str, Written]:
        for subject in subjects:
            self._new[subject] = None
        for p in projections:
            self._new[p.subject_id] = {t.name: rows_of(p, t) for t in tables.PROJECTIONS}
        return {p.subject_id: snapshot(p) for p in projections}

    async def rows(self, subject_id: str) -> dict[str, list[Row]]:
        if subject_id in self._new:
            stored = self._new[subject_id]
        else:
            stored = self._ledger.rows.get(subject_id)
        return {t.name: list((stored or {}).get(t.name, [])) for t in tables.PROJECTIONS}

    async def heads(self, subjects: Sequence[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        for subject in subjects:
            status = (await self.rows(subject))[tables.subject_status.name]
            if status:
                out[subject] = int(status[0]["head_position"])
        return out

    def _commit(self) -> None:
        for subject, rows in self._new.items():
            if rows is None:
                self._ledger.rows.pop(subject, None)
            else:
                self._ledger.rows[subject] = rows


class MemoryProjectionQueue:
    """The `ProjectionQueue` port in one transaction of a `MemoryLedger`: what it
    queues and unqueues is applied to the committed queue when the transaction
    commits, and an unqueue is checked against the queue as it is then (as Postgres
    re-checks the row's newest version), so a subject queued again meanwhile stays."""

    def __init__(self, ledger: MemoryLedger) -> None:
        self._ledger = ledger
        self._queued: dict[str, int] = {}
        self._done: dict[str, int] = {}
        self._turn = False

    async def enqueue(self, heads: Mapping[str, int]) -> None:
        for subject, position in heads.items():
            self._queued[subject] = max(position, self._queued.get(subject, 0))

    async def take(
        self, limit: int, min_age_s: float = 0.0, quiet_s: float | None = None
    ) -> list[Queued]:
        if not self._turn:
            await self._ledger.projection_turn.acquire()
            self._turn = True
        now = datetime.now(UTC)
        settled = now - timedelta(seconds=min_age_s)
        quiet = now - timedelta(seconds=min_age_s if quiet_s is None else quiet_s)
        # the committed queue is kept in the order subjects were queued
        return [
            q
            for q in self._ledger.queue.values()
            if q.queued_at <= settled or (q.touched_at or q.queued_at) <= quiet
        ][:limit]

    async def done(self, heads: Mapping[str, int]) -> list[str]:
        self._done.update(heads)
        return [
            s
            for s, head in heads.items()
            if s in self._ledger.queue and self._ledger.queue[s].last_position <= head
        ]

    async def depth(self) -> QueueDepth:
        queue = self._ledger.queue.values()
        return QueueDepth(len(queue), min((q.queued_at for q in queue), default=None))

    def _end(self, commit: bool) -> None:
        if commit:
            queue = self._ledger.queue
            for subject, head in self._done.items():
                if subject in queue and queue[subject].last_position <= head:
                    del queue[subject]
            now = datetime.now(UTC)
            for subject, position in self._queued.items():
                old = queue.get(subject)
                queue[subject] = (
                    Queued(subject, position, now, now)
                    if old is None
                    else replace(
                        old, last_position=max(old.last_position, position), touched_at=now
                    )
                )
        if self._turn:
            self._ledger.projection_turn.release()
            self._turn = False


class MemoryLookups:
    """The `Lookups` port in one transaction of a `MemoryLedger`."""

    def __init__(self, ledger: MemoryLedger) -> None:
        self._ledger = ledger
        self._entries: list[LookupEntry] = []

    async def add(self, entries: Sequence[LookupEntry]) -> None:
        self._entries.extend(entries)

    def _commit(self) -> None:
        for e in self._entries:
            if (e.designation_id, e.subject_id) in self._ledger.designation_lookup:
                continue
            self._ledger.designation_lookup.add((e.designation_id, e.subject_id))
            self._ledger.subject_lookup.update((k, e.subject_id) for k in e.keys)


@dataclass
class MemoryIngestTransaction:
    """The `IngestTransaction` port in memory."""

    events: MemoryEventAppender
    projections: MemoryProjections
    outbox: MemoryOutbox
    queue: MemoryProjectionQueue
    lookups: MemoryLookups


@dataclass
class MemoryLedger:
    """The ledger's store in memory for ingest and the projector: events, projection
    rows, outbox, projection queue and lookups, all kept or all dropped per
    transaction; appends take turns (the append turn), and so do projectors (the
    projection turn, taken by `queue.take`)."""

    events: MemoryEventStore = field(default_factory=MemoryEventStore)
    outbox: MemoryOutboxStore = field(default_factory=MemoryOutboxStore)
    rows: dict[str, dict[str, list[Row]]] = field(default_factory=dict)
    """Committed rows: subject → projection table name → rows."""
    queue: dict[str, Queued] = field(default_factory=dict)
    subject_lookup: set[tuple[str, str]] = field(default_factory=set)
    designation_lookup: set[tuple[UUID, str]] = field(default_factory=set)
    projection_turn: asyncio.Lock = field(default_factory=asyncio.Lock)

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[MemoryIngestTransaction]:
        queue, lookups = MemoryProjectionQueue(self), MemoryLookups(self)
        # Not `self.outbox.begin()`: that takes the relay's turn, and an ingest batch
        # and a projection round are open at once (only the appends, and the rounds,
        # take turns, as in Postgres).
        outbox = MemoryOutbox(self.outbox)
        try:
            async with self.events.begin() as appender:
                projections = MemoryProjections(self, appender)
                yield MemoryIngestTransaction(appender, projections, outbox, queue, lookups)
                projections._commit()
                lookups._commit()
                outbox._commit()
                queue._end(commit=True)
        finally:
            queue._end(commit=False)
