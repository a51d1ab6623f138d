"""The append-only event store: append with a per-stream hash chain, read back.

Why one lock per append transaction: positions come from an identity column,
allocated when a row is inserted but visible only when its transaction commits.
Two concurrent writers could commit position 11 before position 10, and a reader
following positions (`/v1/changes?after=10`) would skip 10 forever. A
transaction-scoped advisory lock taken before any insert makes appends take turns
(readers are never blocked), so positions become visible in order. Batching keeps
the cost of taking turns low: one lock per batch, not per event. (The same choice
as pyeventsourcing's Postgres recorder, which uses `LOCK TABLE ... EXCLUSIVE`; that
needs UPDATE/DELETE rights the ledger's role must not have, hence the advisory lock.
The alternative, filtering readers by pg_snapshot_xmin, moves the complexity to
every reader.)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Table, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.domain.envelope import Envelope

GENESIS = "0" * 64
APPEND_LOCK = 0x6A_73_62_4C_45_44  # "jsbLED": the ledger's append turn (per database)


@dataclass(frozen=True)
class SourceRef:
    topic: str
    partition: int
    offset: int


@dataclass(frozen=True)
class StoredEvent:
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


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def chain_hash(prev_hash: str, stream: str, stream_version: int, payload: dict[str, Any]) -> str:
    """SHA-256 over the previous link and this event's identity and content."""
    h = hashlib.sha256()
    h.update(prev_hash.encode())
    h.update(canonical_json([stream, stream_version, payload]))
    return h.hexdigest()


async def append(
    conn: AsyncConnection,
    events: Table,
    batch: Sequence[tuple[Envelope, SourceRef | None]],
) -> list[StoredEvent]:
    """Append the batch inside the caller's transaction; duplicates (same event id,
    within the batch or already stored) are dropped. Returns what was appended."""
    if not batch:
        return []
    await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": APPEND_LOCK})
    ids = [env.id for env, _ in batch]
    known = set(
        (await conn.execute(select(events.c.event_id).where(events.c.event_id.in_(ids)))).scalars()
    )
    heads = await _stream_heads(conn, events, {env.subject for env, _ in batch})
    rows: list[dict[str, Any]] = []
    for env, src in batch:
        if env.id in known:
            continue
        known.add(env.id)
        version, prev = heads.get(env.subject, (0, GENESIS))
        payload = env.model_dump(mode="json", exclude_none=True)
        digest = chain_hash(prev, env.subject, version + 1, payload)
        heads[env.subject] = (version + 1, digest)
        rows.append(
            {
                "event_id": env.id,
                "stream": env.subject,
                "stream_version": version + 1,
                "type": env.type,
                "schema_version": env.schemaversion,
                "effective_at": env.time,
                "source_topic": src.topic if src else None,
                "source_partition": src.partition if src else None,
                "source_offset": src.offset if src else None,
                "payload": payload,
                "prev_hash": prev,
                "hash": digest,
            }
        )
    if not rows:
        return []
    result = await conn.execute(pg_insert(events).values(rows).returning(*events.c))
    return [_stored(r) for r in result]


async def _stream_heads(
    conn: AsyncConnection, events: Table, streams: set[str]
) -> dict[str, tuple[int, str]]:
    last = (
        select(events.c.stream, func.max(events.c.stream_version).label("v"))
        .where(events.c.stream.in_(streams))
        .group_by(events.c.stream)
        .subquery()
    )
    rows = await conn.execute(
        select(events.c.stream, events.c.stream_version, events.c.hash).join(
            last, (events.c.stream == last.c.stream) & (events.c.stream_version == last.c.v)
        )
    )
    return {r.stream: (r.stream_version, r.hash) for r in rows}


def _stored(r: Any) -> StoredEvent:
    src = (
        SourceRef(r.source_topic, r.source_partition, r.source_offset)
        if r.source_topic is not None
        else None
    )
    return StoredEvent(
        position=r.position,
        event_id=r.event_id,
        stream=r.stream,
        stream_version=r.stream_version,
        type=r.type,
        schema_version=r.schema_version,
        effective_at=r.effective_at,
        recorded_at=r.recorded_at,
        payload=r.payload,
        prev_hash=r.prev_hash,
        hash=r.hash,
        source=src,
    )


async def stream(conn: AsyncConnection, events: Table, stream_id: str) -> list[StoredEvent]:
    rows = await conn.execute(
        select(events).where(events.c.stream == stream_id).order_by(events.c.stream_version)
    )
    return [_stored(r) for r in rows]


async def after(
    conn: AsyncConnection, events: Table, position: int, limit: int
) -> list[StoredEvent]:
    rows = await conn.execute(
        select(events).where(events.c.position > position).order_by(events.c.position).limit(limit)
    )
    return [_stored(r) for r in rows]
