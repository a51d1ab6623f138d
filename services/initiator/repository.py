"""The initiator's event streams in Postgres (the `SubjectStreams` port of ports.py):
load subjects' lifecycle events (many at once) and write the staged events, their
index rows and their outbox messages with a few bulk statements — all in the
caller's transaction. Subject locks: locks.py; timers: timers.py."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from sqlalchemy import insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from services.initiator import locks, tables, timers
from services.initiator.streams import Staged, Stream
from shared.adapters.outbox import enqueue
from shared.adapters.topics import DESIGNATIONS
from shared.domain.decide_support import CatalogueLookup
from shared.domain.envelope import Envelope
from shared.domain.errors import ConcurrentChange
from shared.domain.fold import Recorded, evolve
from shared.domain.fold_state import DesignationRecord
from shared.ports import OutboxMessage


async def load_streams(conn: AsyncConnection, subject_ids: Iterable[str]) -> dict[str, Stream]:
    """Every named subject's stream (empty ones too), with one query."""
    ids = sorted(set(subject_ids))
    streams = {s: Stream(s) for s in ids}
    if not ids:
        return streams
    t = tables.lifecycle_events
    rows = await conn.execute(
        select(t.c.subject_id, t.c.envelope, t.c.recorded_at, t.c.stream_version)
        .where(t.c.subject_id.in_(ids))
        .order_by(t.c.subject_id, t.c.stream_version)
    )
    for r in rows:
        stream = streams[r.subject_id]
        envelope = Envelope.model_validate(r.envelope)
        stream.state = evolve(stream.state, Recorded(envelope, r.recorded_at))
        stream.version = r.stream_version
    return streams


async def write(conn: AsyncConnection, staged: Staged, topic_suffix: str = "") -> None:
    """Append the staged events, index them and put them in the outbox (same tx).

    A designation and its related persons' designations are staged together, so
    they are written — and published by the relay — together or not at all."""
    if not staged.rows:
        return
    try:
        async with conn.begin_nested():
            await conn.execute(insert(tables.lifecycle_events), staged.rows)
    except IntegrityError as exc:
        raise ConcurrentChange(str(exc.orig)) from exc
    if staged.designations:
        await conn.execute(
            pg_insert(tables.designation_index).on_conflict_do_nothing(), staged.designations
        )
    if staged.objections:
        await conn.execute(
            pg_insert(tables.objection_index).on_conflict_do_nothing(), staged.objections
        )
    await enqueue(
        conn,
        tables.outbox,
        [
            OutboxMessage(DESIGNATIONS + topic_suffix, env.subject, env.to_json_bytes())
            for env in staged.envelopes
        ],
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


class PostgresSubjectStreams:
    """`SubjectStreams` on one open transaction of `conn`."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def lock(self, subject_ids: Iterable[str]) -> None:
        await locks.lock_subjects(self.conn, subject_ids)

    async def load(self, subject_ids: Iterable[str]) -> dict[str, Stream]:
        return await load_streams(self.conn, subject_ids)

    async def write(self, staged: Staged, topic_suffix: str = "") -> None:
        await write(self.conn, staged, topic_suffix)

    async def plan_timers(
        self,
        records: Iterable[DesignationRecord],
        catalogue: CatalogueLookup,
        *,
        remind_before_working_days: int,
        fresh: set[UUID] | frozenset[UUID] = frozenset(),
    ) -> None:
        await timers.sync(
            self.conn,
            records,
            catalogue,
            remind_before_working_days=remind_before_working_days,
            fresh=fresh,
        )

    async def subject_of_designation(self, designation_id: UUID) -> str | None:
        return await subject_of_designation(self.conn, designation_id)

    async def objection_target(self, objection_id: UUID) -> tuple[UUID, str] | None:
        return await objection_target(self.conn, objection_id)
