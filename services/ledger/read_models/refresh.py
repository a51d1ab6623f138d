"""Writing the projections: refresh the subjects ingest queued (in a projection
round, services/ledger/projector.py), or rebuild everything from the event store.

A subject's stored rows are made equal to `project(...)`, a pure function of its
events: so the order in which subjects are refreshed, and how events were batched,
cannot change the result, and a rebuild equals the live rows. The projector computes the
same function from a cached fold (`project_state` of the state evolved with the
batch's events: fold_cache.py says why that is the same state) and writes only the
rows that changed when it knows what is stored (changed_rows.py), a few
set-based statements per table per batch (bulk_sql.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncConnection

from services.ledger import lookup_store, store, tables
from services.ledger.fold_cache import DAWN, FoldCache, Folded
from services.ledger.ports import Projections
from services.ledger.projection_queue import take_projection_turn
from services.ledger.read_models import changed_rows
from services.ledger.read_models.changed_rows import Written
from services.ledger.read_models.rows import SubjectProjection, project, project_state
from services.ledger.stored_snapshots import StoredSnapshots, evolve_folded
from shared.domain.fold_state import SubjectState
from shared.domain.status_view import RenderMemo

Lap = Callable[[str], None]
Progress = Callable[[int, int], None]
"""(events done, subjects done) since the last call."""


async def refresh(
    rows: Projections,
    subjects: Sequence[str],
    appended: Sequence[store.StoredEvent] = (),
    cache: FoldCache | None = None,
    lap: Lap | None = None,
    stored: StoredSnapshots | None = None,
) -> list[SubjectProjection]:
    """Re-project `subjects` from their events, inside the caller's transaction
    (`rows`: the read models bound to it).

    `appended`: committed events of the subjects known without reading them back (in
    stream order: the projector's handed-over events, pending.py). A subject whose
    whole stream is among them (it starts at version 1) is not read back; one
    whose state before them is in `cache` is evolved with them only; any other is
    read from the store and folded from scratch, as a rebuild does — or, with
    `stored`, from its newest stored snapshot on (stored_snapshots.py), which then
    also keeps the state at every multiple of its K this fold passes. Each subject is
    folded and projected once, however many of its events the batch holds.
    `lap(step)` is called after each step (fold, project, write) to time them."""
    if not subjects:
        return []
    fresh: dict[str, list[store.StoredEvent]] = {}
    for event in appended:
        fresh.setdefault(event.stream, []).append(event)
    folded: dict[str, tuple[Folded, store.StoredEvent]] = {}
    previous: dict[str, Written] = {}
    missing: list[str] = []
    for subject in subjects:
        new = fresh.get(subject)
        base = None if not new else _base(subject, new[0], cache)
        if new and base is not None:
            folded[subject] = (_evolve(subject, base, new, stored), new[-1])
            if base.written is not None:
                previous[subject] = base.written
        else:
            missing.append(subject)
    if stored is not None:
        # Whose stream may have a stored snapshot: one whose held events start past K;
        # of those none of whose events are held (length unknown), the ones the store
        # names in one statement — not a lookup each (a lagging projector's misses:
        # docs/benchmarks.md, Ledger, "Ninth round"). Short streams are never asked.
        unknown = [s for s in missing if not fresh.get(s)]
        having = await stored.having(unknown)
        for subject in list(missing):
            new = fresh.get(subject)
            if (new and new[0].stream_version <= stored.every) or (
                not new and subject not in having
            ):
                continue  # too short to have one, or none stored: no lookup
            resumed = await stored.resume(subject)
            if resumed is not None:
                head = resumed.after[-1] if resumed.after else resumed.at
                folded[subject] = (_evolve(subject, resumed.base, resumed.after, stored), head)
                missing.remove(subject)
    for subject, events in (await rows.streams(missing)).items():
        if events:
            folded[subject] = (_evolve(subject, _START, events, stored), events[-1])
    _lap(lap, "fold")
    projections: list[SubjectProjection] = []
    memos: dict[str, RenderMemo | None] = {}
    for subject in subjects:
        if subject in folded:
            f, head = folded[subject]
            memos[subject] = memo = _memo(f, cache)
            projections.append(project_state(subject, f.state, head, f.latest_effective, memo))
    _lap(lap, "project")
    written = await rows.write(projections, previous, subjects)
    if cache is not None:
        for p in projections:
            s = p.subject_id
            cache.put(s, replace(folded[s][0], written=written[s], memo=memos[s]))
    _lap(lap, "write")
    return projections


def _memo(folded: Folded, cache: FoldCache | None) -> RenderMemo | None:
    """The render memo to project `folded` with: the one its cached base carried, a new
    one for a subject with several designations, none otherwise. Why not for one
    designation: every refresh brings events for it, so its view is rendered again
    anyway, and a memo would only hold the views in the cache (memory the fold
    cache's bound does not count; a court debtor is that case)."""
    if cache is None or len(folded.state.designations) < 2:
        return None
    return folded.memo if folded.memo is not None else RenderMemo()


def _lap(lap: Lap | None, step: str) -> None:
    if lap is not None:
        lap(step)


_START = Folded(0, store.GENESIS, SubjectState(), DAWN)
"""Before a stream's first event."""


def _base(subject: str, first: store.StoredEvent, cache: FoldCache | None) -> Folded | None:
    """The stream as it was before `first`, if known without reading the store."""
    if first.stream_version == 1:
        return _START
    if cache is None:
        return None
    return cache.get(subject, first.stream_version - 1, first.prev_hash)


def _evolve(
    subject: str,
    base: Folded,
    events: Sequence[store.StoredEvent],
    stored: StoredSnapshots | None = None,
) -> Folded:
    """`base` evolved with `events`, the stream's next ones (keeping the states to
    store on the way, with `stored`)."""
    if stored is not None:
        return stored.fold_marked(subject, base, events)
    return evolve_folded(subject, base, events)


async def rebuild(
    conn: AsyncConnection, progress: Progress | None = None, chunk_subjects: int = 100
) -> tuple[int, int]:
    """Drop every projection row and project every stream again, in the caller's
    transaction. Returns (events, subjects).

    Why the append turn: ingest takes the same lock to append, so while the rebuild
    runs no batch can append behind its back (the rebuild then reads one consistent
    store). Why the projection turn: the projector takes it for each round, so none
    writes rows meanwhile. Both wait; nothing is lost, they resume after. Every
    stream is projected to its head, so the projection queue is emptied; the
    lookups are filled again from the projections.
    """
    await store.take_append_turn(conn)
    await take_projection_turn(conn)
    for table in (*tables.PROJECTIONS, *tables.LOOKUPS, tables.projection_queue):
        await conn.execute(delete(table))
    pending: list[SubjectProjection] = []
    events_done = subjects_done = 0
    pending_events = 0

    async def flush() -> None:
        nonlocal pending, pending_events
        await changed_rows.insert_all(conn, pending)
        await lookup_store.fill(conn, pending)
        if progress is not None:
            progress(pending_events, len(pending))
        pending, pending_events = [], 0

    async for stream in store.all_streams(conn, tables.events):
        pending.append(project(stream[0].stream, stream))
        pending_events += len(stream)
        events_done += len(stream)
        subjects_done += 1
        if len(pending) >= chunk_subjects:
            await flush()
    await flush()
    return events_done, subjects_done
