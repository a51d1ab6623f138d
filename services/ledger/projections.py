"""Writing the projections: refresh the subjects a batch touched (in the ingest
transaction), or rebuild everything from the event store.

Each subject's rows are replaced as a whole (delete, insert) from `project(...)`, a
pure function of its events: so the order in which subjects are refreshed, and how
events were batched, cannot change the result, and a rebuild equals the live rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import Table, delete, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.ledger import store, tables
from services.ledger.projection import Row, SubjectProjection, project

Progress = Callable[[int, int], None]
"""(events done, subjects done) since the last call."""


async def refresh(
    conn: AsyncConnection,
    subjects: Sequence[str],
    appended: Sequence[store.StoredEvent] = (),
) -> list[SubjectProjection]:
    """Re-project `subjects` from their events, inside the caller's transaction.
    `appended`: events just appended in this transaction; a subject whose whole
    stream is among them (it starts at version 1) is not read back."""
    if not subjects:
        return []
    fresh: dict[str, list[store.StoredEvent]] = {}
    for event in appended:
        fresh.setdefault(event.stream, []).append(event)
    whole = {s: evs for s, evs in fresh.items() if evs[0].stream_version == 1}
    by_subject = {
        **await store.streams(conn, tables.events, [s for s in subjects if s not in whole]),
        **{s: whole[s] for s in subjects if s in whole},
    }
    projections = [project(s, events) for s, events in by_subject.items() if events]
    for chunk in store.chunks(list(subjects), store.CHUNK):
        for table in tables.PROJECTIONS:
            await conn.execute(delete(table).where(table.c.subject_id.in_(chunk)))
    await _insert(conn, projections)
    return projections


async def rebuild(
    conn: AsyncConnection, progress: Progress | None = None, chunk_subjects: int = 500
) -> tuple[int, int]:
    """Drop every projection row and project every stream again, in the caller's
    transaction. Returns (events, subjects).

    Why the append turn: ingest takes the same lock to append, so while the rebuild
    runs no batch can append and refresh a subject behind its back (the rebuild then
    reads one consistent store). Ingest waits; nothing is lost, it resumes after.
    """
    await store.take_append_turn(conn)
    for table in tables.PROJECTIONS:
        await conn.execute(delete(table))
    pending: list[SubjectProjection] = []
    events_done = subjects_done = 0
    pending_events = 0

    async def flush() -> None:
        nonlocal pending, pending_events
        await _insert(conn, pending)
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


async def _insert(conn: AsyncConnection, projections: Sequence[SubjectProjection]) -> None:
    rows: dict[Table, list[Row]] = {t: [] for t in tables.PROJECTIONS}
    for p in projections:
        rows[tables.subject_status].append(p.status_row)
        rows[tables.subject_identifiers].extend(p.identifiers)
        rows[tables.designations].extend(p.designations)
        rows[tables.tasks].extend(p.tasks)
        rows[tables.public_entries].extend(p.public_entries)
    for table, batch in rows.items():
        if batch:
            await conn.execute(insert(table), batch)
