"""Reads of the local store that the check path and the ports share (a subject's
history, its identifiers), the departments' rows and the scanner's question; the
statements of every pass and event are in pass_sql.py."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Text, and_, cast, exists, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.responder import tables
from services.responder.folds import Decoded
from shared.domain.envelope import Envelope
from shared.domain.fold import Recorded

log = logging.getLogger(__name__)

E = tables.designation_events


def recorded(row: Any) -> Recorded:
    """A stored event; `row.envelope` is its JSON text (read as `envelope::text`: one
    parse and validation in pydantic's core instead of the driver's `json.loads` and
    a validation of the dict — the stdlib decoder was 2-3 % of the responder's event
    loop in the pipeline bench, docs/benchmarks.md "Pipeline")."""
    return Recorded(
        envelope=Envelope.model_validate_json(row.envelope),
        recorded_at=row.ingested_at,
        position=row.position,
    )


async def subject_events(
    conn: AsyncConnection,
    subject_ids: Iterable[str],
    up_to: int | None = None,
    decoded: Decoded | None = None,
) -> dict[str, list[Recorded]]:
    """The stored events of each subject in ingest order (up to a position, if given).
    The ingest stores only decodable events; one that is not (written by a newer
    version) is skipped here, and dead-lettered by the departments it is delivered to.
    `decoded`: envelopes the caller has parsed already (the ingest's batch), taken as
    they are instead of parsed again from their stored text."""
    wanted = sorted(set(subject_ids))
    out: dict[str, list[Recorded]] = {s: [] for s in wanted}
    if not wanted:
        return out
    known = decoded or {}
    envelope = cast(E.c.envelope, Text).label("envelope")
    query = select(E.c.position, E.c.subject_id, E.c.event_id, envelope, E.c.ingested_at).where(
        E.c.subject_id.in_(wanted)
    )
    if up_to is not None:
        query = query.where(E.c.position <= up_to)
    for row in await conn.execute(query.order_by(E.c.position)):
        found = known.get(row.event_id)
        if found is not None:
            out[row.subject_id].append(Recorded(found[0], row.ingested_at, row.position))
            continue
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
