"""A snapshot store (services/ledger/snapshot_store.py) that counts its lookups: to
tell whether a read asked for a stored snapshot at all."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from services.ledger.snapshot_store import SnapshotStore, StoredSnapshot


class CountingSnapshotStore:
    def __init__(self, inner: SnapshotStore) -> None:
        self.inner, self.asked = inner, 0

    async def latest(self, stream: str, codec: str, *bounds: Any) -> StoredSnapshot | None:
        self.asked += 1
        return await self.inner.latest(stream, codec, *bounds)

    async def having(self, streams: Sequence[str], codec: str) -> set[str]:
        self.asked += 1
        return await self.inner.having(streams, codec)

    async def put(self, snapshots: Sequence[StoredSnapshot]) -> None:
        await self.inner.put(snapshots)
