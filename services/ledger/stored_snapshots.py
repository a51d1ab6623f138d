"""Snapshots of long streams stored beside the events, so that a process that has not
folded a stream yet (the first status read of a subject, a refresh the fold cache
misses: a stream over its event bound, or a restart) starts from the newest stored
fold it may use and folds only the events after it.

Written by the projector (projector.py): a refresh that folds past a multiple of
`every` (K) keeps the state at that version (`fold_marked`), and the round writes
them once it has committed (`flush`): a court debtor (~50 events) never reaches K, so
the pipeline's refreshes write nothing. Why K = 1,000 (settings.py
`snapshot_every`): docs/benchmarks.md, Ledger, "One subject's reads".

Why a stored snapshot never changes an answer (snapshot_store.py): it is the fold of
events 1..version, used only after the event store confirms that event `version`
has the snapshot's hash (the chain covers every payload up to it, the fold reads
only payloads) and only for a read all of whose folded events are visible at its
(as_of, known_at) (snapshots.py); bytes of another version of the state, or that do
not parse, decode to None and the caller folds from the events (state_codec.py).
Writing one outside the round's transaction is safe for the same reason: the events
it folds were committed before the projector took their subject.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from services.ledger.fold_cache import Folded
from services.ledger.ports import EventStore
from services.ledger.replay import fold_recorded, recorded_events
from services.ledger.snapshot_store import SnapshotStore, StoredSnapshot
from services.ledger.store import StoredEvent
from shared.domain.state_codec import decode_state, encode_state, state_tag

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Resumed:
    """A stream resumed from a stored snapshot: its fold up to the snapshot, the
    snapshot's own event (the head when nothing follows) and the events after it."""

    base: Folded
    at: StoredEvent
    after: list[StoredEvent]


class StoredSnapshots:
    def __init__(self, store: SnapshotStore, events: EventStore, every: int = 1000) -> None:
        self.store, self.events, self.every = store, events, every
        self._marked: list[tuple[str, Folded]] = []
        self.written = 0
        self.bytes_written = 0

    def may_serve(self, head: int | None) -> bool:
        """Whether a stream whose head is at version `head` (None: not known) can have a
        stored snapshot: one is stored only at a multiple of `every` the projector has
        folded past, so a stream known to be shorter than `every` has none and a read
        of it need not ask (snapshots.state_at)."""
        return head is None or head >= self.every

    @staticmethod
    def codec() -> str:
        return state_tag().decode()

    async def having(self, subjects: Sequence[str]) -> set[str]:
        """Those of `subjects` with a stored snapshot of this codec (the store answers an
        empty list without a statement: tests/contracts/snapshot_store.py)."""
        return await self.store.having(subjects, self.codec())

    async def resume(self, subject: str) -> Resumed | None:
        """The stream from its newest stored snapshot, if one is confirmed by the
        store's events (refresh: read_models/refresh.py)."""
        found = await self.store.latest(subject, self.codec())
        state = decode_state(found.state) if found is not None else None
        if found is None or state is None:
            return None
        events = await self.events.stream(subject, found.version - 1)
        if not events or events[0].stream_version != found.version or events[0].hash != found.hash:
            return None
        base = Folded(
            found.version,
            found.hash,
            state,
            found.latest_effective,
            latest_recorded=found.latest_recorded,
        )
        return Resumed(base, events[0], events[1:])

    async def usable(
        self, subject: str, as_of: datetime, known_at: datetime, after_version: int = 0
    ) -> Folded | None:
        """The newest stored snapshot above `after_version` whose events are all visible
        at (as_of, known_at), decoded; the caller confirms its hash with the events it
        reads (snapshots.state_at)."""
        found = await self.store.latest(subject, self.codec(), as_of, known_at, after_version)
        state = decode_state(found.state) if found is not None else None
        if found is None or state is None:
            return None
        return Folded(
            found.version,
            found.hash,
            state,
            found.latest_effective,
            latest_recorded=found.latest_recorded,
        )

    def fold_marked(self, subject: str, base: Folded, events: Sequence[StoredEvent]) -> Folded:
        """`base` evolved with `events` (the stream's next ones), keeping the state at
        every multiple of `every` passed on the way for `flush`."""
        folded = base
        start = 0
        for i, event in enumerate(events):
            if self.every > 0 and event.stream_version % self.every == 0:
                folded = evolve_folded(subject, folded, events[start : i + 1])
                self._marked.append((subject, folded))
                start = i + 1
        return evolve_folded(subject, folded, events[start:]) if start < len(events) else folded

    async def flush(self) -> None:
        """Store the states kept since the last flush (after the round committed);
        a failure costs only the snapshots (logged)."""
        marked, self._marked = self._marked, []
        if not marked:
            return
        codec = self.codec()
        rows = [
            StoredSnapshot(
                subject,
                f.version,
                f.hash,
                f.latest_effective,
                f.latest_recorded,
                codec,
                encode_state(f.state),
            )
            for subject, f in marked
        ]
        try:
            await self.store.put(rows)
        except Exception as exc:
            log.warning("storing %d snapshots failed: %s", len(rows), type(exc).__name__)
            return
        self.written += len(rows)
        self.bytes_written += sum(len(r.state) for r in rows)


def evolve_folded(subject: str, base: Folded, events: Sequence[StoredEvent]) -> Folded:
    """`base` (version 0: nothing folded yet) evolved with `events`, the stream's next
    ones; the latest effective and recorded instants carried along."""
    if not events:
        return base
    head = events[-1]
    start = base.state if base.version > 0 else None
    state = fold_recorded(recorded_events(events), subject, start)
    effective = max(e.effective_at for e in events)
    recorded = max(e.recorded_at for e in events)
    if base.version > 0:
        effective = max(effective, base.latest_effective)
        recorded = max(recorded, base.latest_recorded)
    return Folded(
        head.stream_version,
        head.hash,
        state,
        effective,
        memo=base.memo,
        latest_recorded=recorded,
    )
