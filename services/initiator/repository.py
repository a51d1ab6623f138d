"""The initiator's event streams: load a subject's lifecycle events, append new
ones at the expected version, and put them in the outbox — one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from services.initiator import tables
from shared.adapters.outbox import OutboxMessage, enqueue
from shared.adapters.topics import DESIGNATIONS
from shared.domain.envelope import Envelope
from shared.domain.events import decode
from shared.domain.fold import Recorded
from shared.domain.lifecycle_events import DesignationIssued, ObjectionFiled


class ConcurrentChange(Exception):
    """Another command appended to the subject's stream first; decide again."""


async def load(conn: AsyncConnection, subject_id: str) -> tuple[list[Recorded], int]:
    t = tables.lifecycle_events
    rows = (
        await conn.execute(
            select(t.c.envelope, t.c.recorded_at, t.c.stream_version)
            .where(t.c.subject_id == subject_id)
            .order_by(t.c.stream_version)
        )
    ).all()
    recorded = [Recorded(Envelope.model_validate(r.envelope), r.recorded_at) for r in rows]
    return recorded, (rows[-1].stream_version if rows else 0)


async def append(
    conn: AsyncConnection, envelopes: Sequence[Envelope], expected: dict[str, int]
) -> None:
    """Append each envelope to its subject's stream.

    `expected` holds the versions `decide` saw; a stream that moved since raises
    ConcurrentChange (the caller decides again). Streams that `decide` did not
    read (related persons' new designations) are appended at their current end.
    """
    versions = dict(expected)
    for subject in {env.subject for env in envelopes} - versions.keys():
        versions[subject] = await _head(conn, subject)
    rows = []
    for env in envelopes:
        versions[env.subject] += 1
        rows.append(
            {
                "event_id": env.id,
                "subject_id": env.subject,
                "stream_version": versions[env.subject],
                "type": env.type,
                "envelope": env.model_dump(mode="json", exclude_none=True),
            }
        )
    try:
        async with conn.begin_nested():
            await conn.execute(pg_insert(tables.lifecycle_events).values(rows))
    except IntegrityError as exc:
        raise ConcurrentChange(", ".join(sorted(versions))) from exc
    await _index(conn, envelopes)


async def _head(conn: AsyncConnection, subject_id: str) -> int:
    t = tables.lifecycle_events
    version = (
        await conn.execute(
            select(t.c.stream_version)
            .where(t.c.subject_id == subject_id)
            .order_by(t.c.stream_version.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    return version or 0


async def publish(
    conn: AsyncConnection, envelopes: Sequence[Envelope], topic_suffix: str = ""
) -> None:
    await enqueue(
        conn,
        tables.outbox,
        [
            OutboxMessage(DESIGNATIONS + topic_suffix, env.subject, env.to_json_bytes())
            for env in envelopes
        ],
    )


async def _index(conn: AsyncConnection, envelopes: Sequence[Envelope]) -> None:
    for env in envelopes:
        event = decode(env)
        if isinstance(event, DesignationIssued):
            await conn.execute(
                pg_insert(tables.designation_index)
                .values(
                    designation_id=event.designation_id,
                    subject_id=event.subject_id,
                    designated_by=event.designated_by,
                    list_type=event.list_type,
                )
                .on_conflict_do_nothing()
            )
        elif isinstance(event, ObjectionFiled):
            await conn.execute(
                pg_insert(tables.objection_index)
                .values(
                    objection_id=event.objection_id,
                    designation_id=event.designation_id,
                    subject_id=env.subject,
                )
                .on_conflict_do_nothing()
            )


async def subject_of_designation(conn: AsyncConnection, designation_id: UUID) -> str | None:
    t = tables.designation_index
    return (
        await conn.execute(select(t.c.subject_id).where(t.c.designation_id == designation_id))
    ).scalar_one_or_none()


async def objection_target(conn: AsyncConnection, objection_id: UUID) -> tuple[UUID, str] | None:
    t = tables.objection_index
    row = (
        await conn.execute(
            select(t.c.designation_id, t.c.subject_id).where(t.c.objection_id == objection_id)
        )
    ).first()
    return (row.designation_id, row.subject_id) if row else None
