"""The append-only event store: append with a per-stream hash chain, read back.

Why one lock per append transaction: positions come from an identity column,
allocated when a row is inserted but visible only when its transaction commits.
Two concurrent writers could commit position 11 before position 10, and a reader
following positions (`/v1/changes?after=10`) would skip 10 forever. A
transaction-scoped advisory lock taken before any insert makes appends take turns
(readers are never blocked), so positions become visible in order: a transaction
that holds the lock allocates its positions, commits and only then lets the next
writer allocate higher ones. Batching keeps the cost of taking turns low: one lock
per batch, not per event. The lock also makes the read of each stream's head and the
insert of the next link atomic, so two writers can never fork a hash chain. (The
same choice as pyeventsourcing's Postgres recorder, which uses `LOCK TABLE ...
EXCLUSIVE`; that needs UPDATE/DELETE rights the ledger's role must not have, hence
the advisory lock. The alternative, filtering readers by pg_snapshot_xmin, moves the
complexity to every reader.) `tests/integration/test_ledger_order.py` shows that
concurrent writers never let a reader skip a position, and that a writer without
the lock does.

The lock key is (APPEND_LOCK_CLASS, hashtext(current_schema())): the identity
sequence it guards belongs to one schema's events table, so ledgers in different
schemas (tests run many) do not wait for each other. A hash collision only makes
two schemas take turns, never lets one skip the lock.

`recorded_at` is `clock_timestamp()` at insert, after the lock: it grows with the
position, which `known_at` reads rely on.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

import asyncpg
from pydantic_core import from_json
from sqlalchemy import ColumnElement, Select, Table, Text, cast, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.ledger.canonical import canonical_json, chain_input, stored_form
from shared.adapters.db import driver_of
from shared.domain.envelope import Envelope

__all__ = ["canonical_json", "chain_hash"]

GENESIS = "0" * 64
CHUNK = 1000
"""Streams per statement of `streams` (an expanding `IN`: a parameter each)."""
COPY_FROM = 64
"""Appends of this many events or more go through COPY (`_copy`); fewer through one
INSERT ... RETURNING, one round trip instead of COPY's four. Both store the same rows
(tests/integration/test_ledger_append_copy.py)."""
COPY_COLUMNS = (
    "event_id",
    "stream",
    "stream_version",
    "type",
    "schema_version",
    "effective_at",
    "source_topic",
    "source_partition",
    "source_offset",
    "payload",
    "prev_hash",
    "hash",
)
CopyRow = tuple[
    UUID, str, int, str, int, datetime, str | None, int | None, int | None, str, str, str
]
"""An events row in COPY_COLUMNS' order, the payload as its JSON text."""
T = TypeVar("T")
APPEND_LOCK_CLASS = 0x6A_73_62_4C  # "jsbL": the ledger's append turn (int4 for the 2-key form)


@dataclass(frozen=True)
class SourceRef:
    topic: str
    partition: int
    offset: int


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event as stored. Slotted: no `__dict__` beside each of the ~25,000 events a
    court list's ingest holds until they are projected (one object fewer per event
    for the cyclic collector, which took ~30 % of the append path's CPU: profile in
    docs/benchmarks.md, "Seventh round")."""

    position: int
    event_id: UUID
    stream: str
    stream_version: int
    type: str
    schema_version: int
    effective_at: datetime
    recorded_at: datetime
    payload: dict[str, Any]
    prev_hash: str
    hash: str
    source: SourceRef | None
    envelope: Envelope | None = field(default=None, compare=False, repr=False)
    """The envelope ingest decoded, when `Envelope.model_validate(payload)` equals it
    (canonical.stored_form): the projector folds it instead of validating the payload
    again. None for events read from the store."""


def chain_hash(prev_hash: str, stream: str, stream_version: int, payload: dict[str, Any]) -> str:
    """SHA-256 over the previous link and this event's identity and content."""
    return link_hash(prev_hash, stream, stream_version, canonical_json(payload))


def link_hash(prev_hash: str, stream: str, stream_version: int, payload_json: bytes) -> str:
    """`chain_hash` from the payload's canonical JSON (canonical.chain_input)."""
    h = hashlib.sha256(prev_hash.encode())
    h.update(chain_input(stream, stream_version, payload_json))
    return h.hexdigest()


async def take_append_turn(conn: AsyncConnection) -> None:
    """Wait for the append turn; held until the caller's transaction ends."""
    await conn.execute(
        text("SELECT pg_advisory_xact_lock(:cls, hashtext(current_schema()))"),
        {"cls": APPEND_LOCK_CLASS},
    )


async def append(
    conn: AsyncConnection,
    events: Table,
    batch: Sequence[tuple[Envelope, SourceRef | None]],
) -> list[StoredEvent]:
    """Append the batch inside the caller's transaction; duplicates (same event id,
    within the batch or already stored) are dropped. Returns what was appended.

    Per event, the payload's canonical JSON is written once (for the hash and as the
    COPY's JSONB text) and the `StoredEvent` built positionally with the source the
    batch came with (building it by keyword through `_event`, with a new `SourceRef`,
    was ~1.9 µs of the append's ~11 µs Python per event)."""
    if not batch:
        return []
    await take_append_turn(conn)
    driver = await driver_of(conn)
    # One statement each for the whole batch: each takes its ids (streams) as one
    # array parameter, so no parameter limit applies (in chunks of 1,000 ids the
    # known ids took 26 statements and 0.09-0.11 s of a 24,990-event ingest, in one
    # per batch 5 and 0.065-0.068 s).
    ids = [env.id for env, _ in batch]
    known: set[UUID] = {r[0] for r in await driver.fetch(_KNOWN % events.name, ids)}
    heads = await _stream_heads(driver, events, sorted({env.subject for env, _ in batch}))
    fresh: list[tuple[Envelope, SourceRef | None]] = []
    for item in batch:  # the batch's own tuples: no new object per event to track
        if item[0].id not in known:
            known.add(item[0].id)
            fresh.append(item)
    if not fresh:
        return []
    rows: list[CopyRow] = []
    payloads: list[dict[str, Any]] = []
    envelopes: list[Envelope | None] = []
    built = _rows(fresh, heads, rows, payloads, envelopes)
    if len(fresh) >= COPY_FROM:
        # Streamed: asyncpg encodes and sends the rows in 512 KB messages as the
        # generator builds them, so Postgres parses and indexes the first rows on the
        # other core while this process builds the next (docs/benchmarks.md, Ledger,
        # "Ninth round").
        assigned = await _copy(conn, events, built, rows)
    else:
        assigned = await _insert(conn, events, list(built))
    return [
        StoredEvent(
            position,
            row[0],  # event_id
            row[1],  # stream
            row[2],  # stream_version
            row[3],  # type
            row[4],  # schema_version
            row[5],  # effective_at
            recorded_at,
            payload,
            row[10],  # prev_hash
            row[11],  # hash
            src,
            envelope,
        )
        for row, (_, src), payload, envelope, (position, recorded_at) in zip(
            rows, fresh, payloads, envelopes, assigned, strict=True
        )
    ]


def _rows(
    fresh: Sequence[tuple[Envelope, SourceRef | None]],
    heads: dict[str, tuple[int, str]],
    rows: list[CopyRow],
    payloads: list[dict[str, Any]],
    envelopes: list[Envelope | None],
) -> Iterator[CopyRow]:
    """The events rows of `fresh` (new events, in order), each chained onto its
    stream's head in `heads` (which it moves on), built one at a time as they are
    consumed; each row, payload and foldable envelope is also kept in `rows`,
    `payloads` and `envelopes` (for the `StoredEvent`s)."""
    for env, src in fresh:
        version, prev = heads.get(env.subject, (0, GENESIS))
        payload, payload_json, exact = stored_form(env)
        version += 1
        digest = link_hash(prev, env.subject, version, payload_json)
        heads[env.subject] = (version, digest)
        # In COPY_COLUMNS' order; the payload as its JSON text (JSONB keeps no key
        # order, so the sorted text stores the same value).
        row: CopyRow = (
            env.id,
            env.subject,
            version,
            env.type,
            env.schemaversion,
            env.time,
            None if src is None else src.topic,
            None if src is None else src.partition,
            None if src is None else src.offset,
            payload_json.decode(),
            prev,
            digest,
        )
        rows.append(row)
        payloads.append(payload)
        envelopes.append(env if exact else None)
        yield row


_KNOWN = "SELECT e.event_id FROM unnest($1::uuid[]) AS k(id) JOIN %s e ON e.event_id = k.id"
"""The batch's event ids already stored: one array parameter (by the driver: the
expanding `IN` of SQLAlchemy compiled a parameter per id at every batch), joined so
that every plan probes the event id's index once per id. Written as `event_id =
ANY($1)`, the prepared statement's generic plan (from its sixth execution on) read
far more than the ids: the known ids took 0.50-0.57 s of a 24,990-event ingest's
~1.9 s, against 0.07 s for this join (two runs each, in the same bench)."""


async def _insert(
    conn: AsyncConnection, events: Table, rows: list[CopyRow]
) -> list[tuple[int, datetime]]:
    """One `INSERT ... SELECT ... FROM unnest(...)` with RETURNING, by the driver: a
    column a parameter (12 in all, whatever the rows), the payload as the JSON text
    the COPY sends too, cast by the server. Rows go in in the batch's order (`ORDER
    BY` the ordinality), so positions follow it; what comes back is matched by event
    id and checked to grow. (It was SQLAlchemy's "insertmanyvalues", which
    serialised each payload again with the standard library's encoder through the
    JSONB type, ~11 KB for a court designation.)"""
    driver = await driver_of(conn)
    found = await driver.fetch(_INSERT % events.name, *zip(*rows, strict=True))
    assigned = {r[0]: (r[1], r[2]) for r in found}
    if len(found) != len(rows) or not all(row[0] in assigned for row in rows):
        raise RuntimeError("the insert returned other rows than the batch's")
    out = [assigned[row[0]] for row in rows]
    if any(a[0] >= b[0] for a, b in itertools.pairwise(out)):
        raise RuntimeError("the insert assigned positions out of the batch's order")
    return out


_INSERT = (
    "INSERT INTO %s (event_id, stream, stream_version, type, schema_version, effective_at,"
    " source_topic, source_partition, source_offset, payload, prev_hash, hash)"
    " SELECT e, s, v, t, sv, at, st, sp, so, p::jsonb, ph, h FROM unnest($1::uuid[],"
    " $2::text[], $3::int[], $4::text[], $5::int[], $6::timestamptz[], $7::text[],"
    " $8::int[], $9::bigint[], $10::text[], $11::text[], $12::text[])"
    " WITH ORDINALITY AS u(e, s, v, t, sv, at, st, sp, so, p, ph, h, n)"
    " ORDER BY n RETURNING event_id, position, recorded_at"
)


async def _copy(
    conn: AsyncConnection, events: Table, records: Iterator[CopyRow], rows: list[CopyRow]
) -> list[tuple[int, datetime]]:
    """The rows `records` yields through `COPY ... FROM STDIN (FORMAT binary)`
    (asyncpg's `copy_records_to_table`), then what the database assigned read back by
    position; `rows` holds the rows yielded once the COPY is done.

    Why `records` may be a generator: asyncpg encodes the rows as it draws them and
    sends each 512 KB of them as one message, so the server parses and indexes those
    while the generator builds the next ones (the two run on different cores: the
    append takes about the longer of the two, not their sum).

    Why this reads back exactly our rows: the caller holds the append turn, so no
    other writer of this schema's events can insert until our transaction ends; the
    identity column hands out positions in COPY order, all above the highest position
    before the COPY (a rolled-back writer leaves gaps, never rows). The event ids are
    checked against the rows anyway. Why COPY: one stream of binary tuples instead of
    pages of parameterised INSERTs; the database parses no SQL per row (the ingest
    profile: the INSERT was about half of the append step)."""
    driver = await driver_of(conn)
    before = await driver.fetchval(_LAST % events.name)
    await driver.copy_records_to_table(events.name, records=records, columns=COPY_COLUMNS)
    found = await driver.fetch(_AFTER % events.name, before)
    if [r[2] for r in found] != [row[0] for row in rows]:
        raise RuntimeError("the events table changed under the append turn")
    return [(r[0], r[1]) for r in found]


_LAST = "SELECT coalesce(max(position), 0) FROM %s"
_AFTER = "SELECT position, recorded_at, event_id FROM %s WHERE position > $1 ORDER BY position"


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def _stream_heads(
    driver: asyncpg.Connection[Any], events: Table, streams: Sequence[str]
) -> dict[str, tuple[int, str]]:
    """Each stream's last version and hash (streams without events are absent)."""
    rows = await driver.fetch(_HEADS % events.name, list(streams))
    return {r[0]: (r[1], r[2]) for r in rows}


_HEADS = (
    "SELECT s.stream, e.stream_version, e.hash FROM unnest($1::text[]) AS s(stream)"
    " CROSS JOIN LATERAL (SELECT stream_version, hash FROM %s WHERE stream = s.stream"
    " ORDER BY stream_version DESC LIMIT 1) e"
)
"""One descent of the (stream, stream_version) index per stream, from its end. The
join on `max(stream_version) ... GROUP BY stream` it replaces read every version of
every stream: 33-54 ms for 1,000 court debtors' streams (49 events each) against
4-7 ms, and it grew with each stream's length."""


def row_to_event(r: Any, payload: dict[str, Any] | None = None) -> StoredEvent:
    """The row as a `StoredEvent`; `payload`: the row's payload already decoded."""
    return _event(
        r.position,
        r.event_id,
        r.stream,
        r.stream_version,
        r.type,
        r.schema_version,
        r.effective_at,
        r.recorded_at,
        r.source_topic,
        r.source_partition,
        r.source_offset,
        r.payload if payload is None else payload,
        r.prev_hash,
        r.hash,
    )


def _event(
    position: int,
    event_id: UUID,
    stream: str,
    stream_version: int,
    type_: str,
    schema_version: int,
    effective_at: datetime,
    recorded_at: datetime,
    source_topic: str | None,
    source_partition: int | None,
    source_offset: int | None,
    payload: dict[str, Any],
    prev_hash: str,
    hash_: str,
    envelope: Envelope | None = None,
) -> StoredEvent:
    """A `StoredEvent` from the events table's columns, in their order (tables.py)."""
    return StoredEvent(
        position=position,
        event_id=event_id,
        stream=stream,
        stream_version=stream_version,
        type=type_,
        schema_version=schema_version,
        effective_at=effective_at,
        recorded_at=recorded_at,
        payload=payload,
        prev_hash=prev_hash,
        hash=hash_,
        source=None
        if source_topic is None or source_partition is None or source_offset is None
        else SourceRef(source_topic, source_partition, source_offset),
        envelope=envelope,
    )


PAYLOAD = 11
"""The payload's place among the events table's columns (tables.py, `_event`)."""


def read_columns(events: Table) -> list[ColumnElement[Any]]:
    """The columns of `events` in order, the payload as its JSON text
    (`text_row_to_event` decodes it). Why: the driver's JSONB codec decodes with the
    standard library's `json.loads`, the largest part of reading a long stream
    (docs/benchmarks.md, Ledger); pydantic-core's parser gives the same values
    (integers beyond 64 bits included, which orjson would turn into floats) in half
    the time."""
    columns: list[ColumnElement[Any]] = list(events.c)
    assert columns[PAYLOAD].name == "payload"
    columns[PAYLOAD] = cast(events.c.payload, Text).label("payload")
    return columns


def text_row_to_event(r: Any) -> StoredEvent:
    """`row_to_event` of a row read with `read_columns`, by position: a Row's
    attribute lookups by name cost ~10 µs a row, most of reading 10,000 events once
    the payloads were parsed faster (profiled)."""
    values = list(r)
    values[PAYLOAD] = from_json(values[PAYLOAD])
    return _event(*values)


async def stream(
    conn: AsyncConnection,
    events: Table,
    stream_id: str,
    after_version: int = 0,
    limit: int | None = None,
) -> list[StoredEvent]:
    rows = await conn.execute(stream_query(events, stream_id, after_version, limit))
    return [text_row_to_event(r) for r in rows]


def stream_query(
    events: Table, stream_id: str, after_version: int = 0, limit: int | None = None
) -> Select[Any]:
    """`stream`'s statement. A page (`limit`) picks its positions first and casts only
    their payloads. Why: a plan computes the select list (the payload's cast to text,
    `read_columns`) for every row it reads below its sort, and where the planner
    expects a short stream (a table not analysed yet, or a stream outside its common
    values — a long one among millions) it reads the whole stream by a bitmap scan
    and sorts it: a page of 100 of a 10,000-event stream cast all 10,001 payloads,
    27 ms against 3.7 ms this way (0.4–0.5 ms either way once analysed; EXPLAIN
    ANALYZE, docs/benchmarks.md "One subject's reads")."""
    where = (events.c.stream == stream_id, events.c.stream_version > after_version)
    query = select(*read_columns(events))
    if limit is None:
        return query.where(*where).order_by(events.c.stream_version)
    page = select(events.c.position).where(*where).order_by(events.c.stream_version).limit(limit)
    return query.where(events.c.position.in_(page)).order_by(events.c.stream_version)


async def visible_stream(
    conn: AsyncConnection,
    events: Table,
    stream_id: str,
    as_of: datetime,
    known_at: datetime,
    after_version: int = 0,
) -> list[StoredEvent]:
    """`stream`'s events effective by `as_of` and recorded by `known_at`, filtered by
    the server: the rest is neither sent nor decoded (a status as of the middle of a
    long history leaves out half of it)."""
    rows = await conn.execute(
        select(*read_columns(events))
        .where(
            events.c.stream == stream_id,
            events.c.stream_version > after_version,
            events.c.effective_at <= as_of,
            events.c.recorded_at <= known_at,
        )
        .order_by(events.c.stream_version)
    )
    return [text_row_to_event(r) for r in rows]


async def after(
    conn: AsyncConnection, events: Table, position: int, limit: int
) -> list[StoredEvent]:
    rows = await conn.execute(
        select(events).where(events.c.position > position).order_by(events.c.position).limit(limit)
    )
    return [row_to_event(r) for r in rows]


async def streams(
    conn: AsyncConnection, events: Table, stream_ids: Sequence[str]
) -> dict[str, list[StoredEvent]]:
    """Several streams at once, each in stream order."""
    out: dict[str, list[StoredEvent]] = {s: [] for s in stream_ids}
    if not stream_ids:
        return out
    for chunk in chunks(list(stream_ids), CHUNK):
        rows = await conn.execute(
            select(events)
            .where(events.c.stream.in_(chunk))
            .order_by(events.c.stream, events.c.stream_version)
        )
        for r in rows:
            out[r.stream].append(row_to_event(r))
    return out


async def all_streams(
    conn: AsyncConnection, events: Table, chunk: int = 2000
) -> AsyncIterator[list[StoredEvent]]:
    """Every stream, one at a time, read with a server-side cursor (the store may be
    far larger than memory). Needs a transaction on `conn`."""
    result = await conn.stream(
        select(events)
        .order_by(events.c.stream, events.c.stream_version)
        .execution_options(yield_per=chunk)
    )
    current: list[StoredEvent] = []
    async for r in result:
        if current and current[0].stream != r.stream:
            yield current
            current = []
        current.append(row_to_event(r))
    if current:
        yield current


async def count(conn: AsyncConnection, events: Table) -> int:
    return int((await conn.execute(select(func.count()).select_from(events))).scalar_one())


class PostgresEventAppender:
    """`EventAppender` (ports.py) on one open transaction of `conn`."""

    def __init__(self, conn: AsyncConnection, events: Table) -> None:
        self.conn, self.events = conn, events

    async def append(self, batch: Sequence[tuple[Envelope, SourceRef | None]]) -> list[StoredEvent]:
        return await append(self.conn, self.events, batch)


class PostgresEventStore:
    """`EventStore` (ports.py) on Postgres."""

    def __init__(self, engine: AsyncEngine, events: Table) -> None:
        self.engine, self.events = engine, events

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[PostgresEventAppender]:
        async with self.engine.begin() as conn:
            yield PostgresEventAppender(conn, self.events)

    async def stream(
        self, stream_id: str, after_version: int = 0, limit: int | None = None
    ) -> list[StoredEvent]:
        async with self.engine.connect() as conn:
            return await stream(conn, self.events, stream_id, after_version, limit)

    async def visible_stream(
        self, stream_id: str, as_of: datetime, known_at: datetime, after_version: int = 0
    ) -> list[StoredEvent]:
        async with self.engine.connect() as conn:
            return await visible_stream(
                conn, self.events, stream_id, as_of, known_at, after_version
            )

    async def after(self, position: int, limit: int) -> list[StoredEvent]:
        async with self.engine.connect() as conn:
            return await after(conn, self.events, position, limit)
