"""The snapshot store (snapshot_store.py) on Postgres: table `snapshots` (tables.py,
migration 0007), keyed by stream and version. The encoded states (~0.2–4 MB of JSON each) are
compressed by the server (TOAST, lz4 as the status documents: migration 0005)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from services.ledger.ports import EventStore
from services.ledger.snapshot_store import StoredSnapshot
from services.ledger.stored_snapshots import StoredSnapshots
from services.ledger.tables import snapshots

_VALUES = ("hash", "latest_effective", "latest_recorded", "codec", "state")


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
        s = snapshots.c
        query = select(snapshots).where(
            s.stream == stream, s.version > after_version, s.codec == codec
        )
        if as_of is not None:
            query = query.where(s.latest_effective <= as_of)
        if known_at is not None:
            query = query.where(s.latest_recorded <= known_at)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query.order_by(s.version.desc()).limit(1))).first()
        if row is None:
            return None
        return StoredSnapshot(
            row.stream,
            row.version,
            row.hash,
            row.latest_effective,
            row.latest_recorded,
            row.codec,
            bytes(row.state),
        )

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
