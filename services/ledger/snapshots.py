"""Snapshots of a subject's fold every `every` events, so that the status of a subject
with a long history folds only the events after the latest usable snapshot instead of
the whole stream (`GET /subjects/{id}/status`).

Why a snapshot gives the same status as folding from scratch: the fold is a left fold
(replay.fold_recorded), and a status at (as_of, known_at) folds the events that are
`visible` then, in stream order. A snapshot at version v is the fold of events 1..v;
it is used only when every one of them is visible at (as_of, known_at) — it keeps the
latest effective and recorded instants of its prefix — so folding the visible events
after v into it equals folding every visible event. It is keyed by the chain hash of
event v, checked against the store before use: the hash chains every payload up to v,
and the fold reads nothing but payloads (fold_cache.py says the same of its entries),
so a stream the snapshot does not belong to is never folded onto it.

In memory, least recently used out, bounded by `capacity` snapshots in all: an
optimisation only (empty, it changes nothing but speed).

Beside them, for the `memos` streams with snapshots read last, the designations
their last status read rendered (`RenderMemo`, shared.domain.status_view): a state
folded from a snapshot shares the snapshot's records and feedback objects, so the
next read renders again only the designations the events after the snapshot
touched, or whose clock answers differ (the memo compares them; why that is the same
view: RenderMemo). Measured on the 10,000-event subject (docs/benchmarks.md, Ledger,
"Sixth round"): `render_status` ~48 ms → a few.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from services.ledger.ports import EventStore
from services.ledger.replay import fold_recorded, recorded_events
from services.ledger.store import StoredEvent
from services.ledger.stored_snapshots import StoredSnapshots
from shared.domain.fold import visible
from shared.domain.fold_state import SubjectState
from shared.domain.status_view import RenderMemo


@dataclass(frozen=True, slots=True)
class Snapshot:
    version: int
    hash: str
    """The chain hash of event `version`."""
    state: SubjectState
    """The fold of events 1..version."""
    latest_effective: datetime
    latest_recorded: datetime

    def usable(self, as_of: datetime, known_at: datetime) -> bool:
        """Every folded event is visible at (as_of, known_at)."""
        return self.latest_effective <= as_of and self.latest_recorded <= known_at


class Snapshots:
    """In memory; with `stored`, backed by the snapshots the projector stores
    (stored_snapshots.py): a read takes a stored one when it is newer than any usable
    one in memory, and keeps it in memory once the store confirmed it."""

    def __init__(
        self,
        every: int = 1000,
        capacity: int = 64,
        memos: int = 4,
        stored: StoredSnapshots | None = None,
    ) -> None:
        self.every, self.capacity, self.memos = every, capacity, memos
        self.stored = stored
        self._entries: OrderedDict[tuple[str, int], Snapshot] = OrderedDict()
        self._memos: OrderedDict[str, RenderMemo] = OrderedDict()

    def memo(self, stream: str) -> RenderMemo | None:
        """The render memo of a stream that has snapshots (a long one), else None."""
        if self.memos <= 0 or not any(name == stream for name, _ in self._entries):
            return None
        memo = self._memos.pop(stream, None) or RenderMemo()
        self._memos[stream] = memo
        while len(self._memos) > self.memos:
            self._memos.popitem(last=False)
        return memo

    def latest_usable(self, stream: str, as_of: datetime, known_at: datetime) -> Snapshot | None:
        found = [
            s
            for (name, _), s in self._entries.items()
            if name == stream and s.usable(as_of, known_at)
        ]
        if not found:
            return None
        best = max(found, key=lambda s: s.version)
        self._entries.move_to_end((stream, best.version))
        return best

    def put(self, stream: str, snapshot: Snapshot) -> None:
        if self.capacity <= 0:
            return
        self._entries[(stream, snapshot.version)] = snapshot
        self._entries.move_to_end((stream, snapshot.version))
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)

    def drop(self, stream: str) -> None:
        for key in [k for k in self._entries if k[0] == stream]:
            del self._entries[key]
        self._memos.pop(stream, None)

    def __len__(self) -> int:
        return len(self._entries)


def fold_visible(
    subject: str,
    events: Sequence[StoredEvent],
    as_of: datetime,
    known_at: datetime,
    base: Snapshot | None = None,
    snapshots: Snapshots | None = None,
) -> SubjectState:
    """Fold the events of `subject` after `base` (the whole stream when None) that
    are visible at (as_of, known_at); on the way, keep a snapshot at every multiple of
    `snapshots.every` while every event so far is visible.

    `events` may leave out events that are not visible (`EventStore.visible_stream`):
    a gap in the stream versions ends the visible prefix as an invisible event does,
    so no snapshot is taken past it."""
    state = base.state if base is not None else None
    effective = base.latest_effective if base is not None else None
    recorded = base.latest_recorded if base is not None else None
    expected = base.version + 1 if base is not None else 1
    whole_prefix = True
    every = snapshots.every if snapshots is not None else 0
    for event in events:
        # Visibility from the stored columns, before decoding: `effective_at` is the
        # envelope's `time` (verify.py checks they agree) and `recorded_at` the
        # Recorded's own, so this is `visible` — and the events a read leaves out
        # are not decoded at all.
        if not (event.effective_at <= as_of and event.recorded_at <= known_at):
            whole_prefix = False
            continue
        shown = [r for r in recorded_events((event,)) if visible(r, as_of, known_at)]
        state = fold_recorded(shown, subject, state)
        whole_prefix = whole_prefix and len(shown) == 1 and event.stream_version == expected
        expected = event.stream_version + 1
        if whole_prefix:
            effective = (
                event.effective_at if effective is None else max(effective, event.effective_at)
            )
            recorded = event.recorded_at if recorded is None else max(recorded, event.recorded_at)
            if snapshots is not None and every > 0 and event.stream_version % every == 0:
                snapshots.put(
                    subject, Snapshot(event.stream_version, event.hash, state, effective, recorded)
                )
    return state if state is not None else SubjectState(subject_id=subject)


async def _latest_usable(
    snapshots: Snapshots | None,
    subject: str,
    as_of: datetime,
    known_at: datetime,
    head: int | None,
) -> Snapshot | None:
    if snapshots is None:
        return None
    base = snapshots.latest_usable(subject, as_of, known_at)
    if snapshots.stored is None or not snapshots.stored.may_serve(head):
        return base
    after = base.version if base is not None else 0
    found = await snapshots.stored.usable(subject, as_of, known_at, after)
    if found is None:
        return base
    return Snapshot(
        found.version, found.hash, found.state, found.latest_effective, found.latest_recorded
    )


async def state_at(
    event_store: EventStore,
    subject: str,
    as_of: datetime,
    known_at: datetime,
    snapshots: Snapshots | None,
    head: int | None = None,
) -> SubjectState:
    """The subject's folded state at (as_of, known_at): from the latest usable
    snapshot (in memory, or stored when newer) whose hash the store confirms, else
    from the whole stream; either way only the visible events are read
    (`visible_stream`: the server filters them).

    `head`: the stream's version as far as the caller knows it (the status row's,
    lookup.resolve_subject_head; None: unknown). A stream known to be shorter than the
    snapshot interval has no stored snapshot, so the store is not asked: one query
    less for every status read of a short stream (a court debtor's ~50 events). Only
    speed depends on it — a stale `head` at worst skips a snapshot, and the fold from
    the events answers the same."""
    base = await _latest_usable(snapshots, subject, as_of, known_at, head)
    if base is not None and snapshots is not None:
        # the snapshot's own event is visible (it is in the snapshot's prefix)
        events = await event_store.visible_stream(subject, as_of, known_at, base.version - 1)
        if events and events[0].stream_version == base.version and events[0].hash == base.hash:
            snapshots.put(subject, base)
            return fold_visible(subject, events[1:], as_of, known_at, base, snapshots)
        snapshots.drop(subject)
    events = await event_store.visible_stream(subject, as_of, known_at)
    return fold_visible(subject, events, as_of, known_at, None, snapshots)
