"""Stored snapshots of a subject's fold: the port, and its in-memory adapter.

A snapshot is the fold of a stream's events 1..`version` (shared/domain/state_codec.py
encodes it), with the chain hash of event `version` and the latest effective and
recorded instants among those events. It is a cache: a reader uses one only after
the store confirms that event `version` of the stream has that hash (the hash
chains every payload up to it, and the fold reads nothing but payloads), so a
snapshot that belongs to another history, or bytes of another version of the state
(`codec`), are never folded onto; without any, every read folds from the events.

Adapters: here (in memory) and snapshot_store_postgres.py; both pass
tests/contracts/snapshot_store.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class StoredSnapshot:
    stream: str
    version: int
    hash: str
    """The chain hash of event `version`."""
    latest_effective: datetime
    latest_recorded: datetime
    """The latest effective / recorded instants among events 1..version: the snapshot
    serves a read as of (as_of, known_at) only when both are at or before them."""
    codec: str
    """The state encoding's tag (state_codec.state_tag)."""
    state: bytes


class SnapshotStore(Protocol):
    async def latest(
        self,
        stream: str,
        codec: str,
        as_of: datetime | None = None,
        known_at: datetime | None = None,
        after_version: int = 0,
    ) -> StoredSnapshot | None:
        """The stream's snapshot of the greatest version above `after_version`, of this
        `codec`, whose events are all effective by `as_of` and recorded by `known_at`
        (None: any)."""

    async def having(self, streams: Sequence[str], codec: str) -> set[str]:
        """The streams among `streams` with at least one snapshot of this `codec`: one
        statement for many streams whose length the caller does not know (the
        projector's refreshes of subjects none of whose events it holds)."""

    async def put(self, snapshots: Sequence[StoredSnapshot]) -> None:
        """Store each snapshot, replacing one of the same stream and version."""


class MemorySnapshotStore:
    def __init__(self) -> None:
        self.snapshots: dict[tuple[str, int], StoredSnapshot] = {}

    async def latest(
        self,
        stream: str,
        codec: str,
        as_of: datetime | None = None,
        known_at: datetime | None = None,
        after_version: int = 0,
    ) -> StoredSnapshot | None:
        found = [
            s
            for (name, version), s in self.snapshots.items()
            if name == stream
            and version > after_version
            and s.codec == codec
            and (as_of is None or s.latest_effective <= as_of)
            and (known_at is None or s.latest_recorded <= known_at)
        ]
        return max(found, key=lambda s: s.version, default=None)

    async def having(self, streams: Sequence[str], codec: str) -> set[str]:
        wanted = set(streams)
        return {s.stream for s in self.snapshots.values() if s.codec == codec} & wanted

    async def put(self, snapshots: Sequence[StoredSnapshot]) -> None:
        for s in snapshots:
            self.snapshots[(s.stream, s.version)] = s
