"""Reads of the local store (and the department cursor): what the lanes and the
check API fold."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import ValidationError
from sqlalchemy import and_, exists, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.responder import tables
from shared.domain.envelope import Envelope
from shared.domain.fold import Recorded

log = logging.getLogger(__name__)

E = tables.designation_events


def recorded(row: Any) -> Recorded:
    return Recorded(
        envelope=Envelope.model_validate(row.envelope),
        recorded_at=row.ingested_at,
        position=row.position,
    )


async def subject_events(
    conn: AsyncConnection, subject_ids: Iterable[str], up_to: int | None = None
) -> dict[str, list[Recorded]]:
    """The stored events of each subject in ingest order (up to a position, if given).
    The ingest stores only decodable events; one that is not (written by a newer
    version) is skipped here, and dead-lettered by the departments it is delivered to."""
    wanted = sorted(set(subject_ids))
    out: dict[str, list[Recorded]] = {s: [] for s in wanted}
    if not wanted:
        return out
    query = select(E.c.position, E.c.subject_id, E.c.envelope, E.c.ingested_at).where(
        E.c.subject_id.in_(wanted)
    )
    if up_to is not None:
        query = query.where(E.c.position <= up_to)
    for row in await conn.execute(query.order_by(E.c.position)):
        try:
            out[row.subject_id].append(recorded(row))
        except ValidationError:  # unreadable: left out of every fold
            log.error("stored event at %s is not an envelope; skipped", row.position)
    return out


async def subjects_of(conn: AsyncConnection, identifier: str) -> list[str]:
    """The subjects known by `identifier` (any of their identifiers), usually one."""
    t = tables.subject_identifiers
    rows = await conn.execute(
        select(t.c.subject_id).where(t.c.identifier == identifier).order_by(t.c.subject_id)
    )
    return [r.subject_id for r in rows]


async def ensure_departments(conn: AsyncConnection, departments: Iterable[str]) -> None:
    rows = [{"department": d} for d in sorted(departments)]
    if rows:
        stmt = pg_insert(tables.departments).values(rows)
        await conn.execute(stmt.on_conflict_do_nothing(index_elements=["department"]))


async def lock_department(conn: AsyncConnection, department: str) -> int:
    """The department's cursor, locked for this transaction (see tables.departments)."""
    d = tables.departments
    row = (
        await conn.execute(
            select(d.c.position).where(d.c.department == department).with_for_update()
        )
    ).one()
    return int(row.position)


async def move_department(conn: AsyncConnection, department: str, position: int) -> None:
    """Move the cursor past what the pass applied; the deliveries it read are done
    (the reading list only holds pending work, so it stays small)."""
    d, v = tables.departments, tables.deliveries
    await conn.execute(
        d.update()
        .where(d.c.department == department)
        .values(position=position, applied_at=func.now())
    )
    await conn.execute(v.delete().where(v.c.department == department, v.c.position <= position))


async def deliveries_after(
    conn: AsyncConnection, department: str, position: int, limit: int
) -> Sequence[Any]:
    """The department's next deliveries, without the events' envelopes: a pass takes
    those from the subject's history, or from another department's fold of it."""
    v = tables.deliveries
    query = (
        select(
            E.c.position,
            E.c.subject_id,
            E.c.designation_id,
            E.c.source_partition,
            E.c.source_offset,
        )
        .join(v, v.c.position == E.c.position)
        .where(v.c.department == department, v.c.position > position)
        .order_by(v.c.position)
        .limit(limit)
    )
    return (await conn.execute(query)).all()


async def due(conn: AsyncConnection, department: str, now: datetime) -> list[tuple[str, UUID]]:
    """(subject, designation) whose tasks the clock may have changed by `now`."""
    t = tables.tasks
    rows = await conn.execute(
        select(t.c.subject_id, t.c.designation_id)
        .where(t.c.department == department, t.c.wake_at <= now)
        .distinct()
    )
    return [(r.subject_id, r.designation_id) for r in rows]


async def pending_departments(
    conn: AsyncConnection, departments: Iterable[str], now: datetime
) -> list[str]:
    """Hosted departments with deliveries beyond their cursor, or clock work due."""
    d, v, t = tables.departments, tables.deliveries, tables.tasks
    unread = exists().where(v.c.department == d.c.department, v.c.position > d.c.position)
    waking = exists().where(
        and_(t.c.department == d.c.department, t.c.wake_at.is_not(None), t.c.wake_at <= now)
    )
    rows = await conn.execute(
        select(d.c.department).where(d.c.department.in_(sorted(departments)), unread | waking)
    )
    return [r.department for r in rows]


async def tasks_for_update(
    conn: AsyncConnection, department: str, designation_ids: Iterable[UUID]
) -> dict[UUID, dict[str, Any]]:
    """The department's tasks of these designations, locked for the transaction
    (an officer's answer locks the same rows: see inbox.py)."""
    wanted = sorted(set(designation_ids))
    out: dict[UUID, dict[str, Any]] = {d: {} for d in wanted}
    if not wanted:
        return out
    t = tables.tasks
    rows = await conn.execute(
        select(t.c.task_id, t.c.designation_id, t.c.measure, t.c.mode, t.c.state, t.c.resume_to)
        .where(t.c.department == department, t.c.designation_id.in_(wanted))
        .order_by(t.c.task_id)
        .with_for_update()
    )
    for r in rows:
        out[r.designation_id][r.measure] = r
    return out
