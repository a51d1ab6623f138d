"""The snapshot store (snapshot_store.py) on Postgres: table `snapshots` (tables.py,
migration 0007), keyed by stream and version. The encoded states (~0.2–4 MB of JSON each) are
compressed by the server (TOAST, lz4 as the status documents: migration 0005)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import asyncpg
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from services.ledger.ports import EventStore
from services.ledger.snapshot_store import StoredSnapshot
from services.ledger.stored_snapshots import StoredSnapshots
from services.ledger.tables import snapshots

_VALUES = ("hash", "latest_effective", "latest_recorded", "codec", "state")

_LATEST = (
    "SELECT version, hash, latest_effective, latest_recorded, state FROM snapshots"
    " WHERE stream = $1 AND codec = $2 AND version > $3"
    " AND latest_effective <= $4 AND latest_recorded <= $5"
    " ORDER BY version DESC LIMIT 1"
)
"""`SnapshotStore.latest` (the schema is the connection's search_path: db.make_engine)."""
_HAVING = "SELECT DISTINCT stream FROM snapshots WHERE stream = ANY($1::text[]) AND codec = $2"
"""`SnapshotStore.having` (the primary key's index starts with the stream)."""
_ANY_TIME = datetime.max.replace(tzinfo=UTC)
"""No bound on an instant (`latest` without as_of / known_at)."""


class PostgresSnapshotStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def latest(
        self,
        stream: str,
        codec: str,
        as_of: datetime | None = None,
        known_at: datetime | None = None,
        after_version: int = 0,
    ) -> StoredSnapshot | None:
        """One statement sent to the driver (asyncpg prepares it once per connection).
        Why not through SQLAlchemy: a state is megabytes of bytea, and the first status
        read of a long subject waits for it — measured on the 10,000-event subject's
        2.1 MB state, alternated (docs/benchmarks.md, "One subject's reads (session
        10)"): 0.63x the CPU and 0.71-0.77x the wall of the same select through
        SQLAlchemy (2.1 -> 1.3 ms of CPU). A single statement: no transaction needed
        (the row is read whole or not at all)."""
        async with self._engine.connect() as conn:
            driver: asyncpg.Connection[Any] = (await conn.get_raw_connection()).driver_connection
            row = await driver.fetchrow(
                _LATEST, stream, codec, after_version, as_of or _ANY_TIME, known_at or _ANY_TIME
            )
        if row is None:
            return None
        version, hash_, effective, recorded, state = row
        return StoredSnapshot(stream, version, hash_, effective, recorded, codec, bytes(state))

    async def having(self, streams: Sequence[str], codec: str) -> set[str]:
        if not streams:
            return set()
        async with self._engine.connect() as conn:
            driver: asyncpg.Connection[Any] = (await conn.get_raw_connection()).driver_connection
            return {row[0] for row in await driver.fetch(_HAVING, list(streams), codec)}

    async def put(self, items: Sequence[StoredSnapshot]) -> None:
        if not items:
            return
        rows = [
            {
                "stream": i.stream,
                "version": i.version,
                "hash": i.hash,
                "latest_effective": i.latest_effective,
                "latest_recorded": i.latest_recorded,
                "codec": i.codec,
                "state": i.state,
            }
            for i in items
        ]
        statement = insert(snapshots)
        excluded = statement.excluded
        async with self._engine.begin() as conn:
            await conn.execute(
                statement.on_conflict_do_update(
                    index_elements=["stream", "version"],
                    set_={name: excluded[name] for name in _VALUES},
                ),
                rows,
            )


def stored_snapshots(engine: AsyncEngine, events: EventStore, every: int) -> StoredSnapshots | None:
    """The stored snapshots of the ledger's schema on `engine`, every `every` events
    (None when 0: snapshots off)."""
    return StoredSnapshots(PostgresSnapshotStore(engine), events, every) if every > 0 else None
