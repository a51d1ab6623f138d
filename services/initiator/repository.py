"""The initiator's event streams: load subjects' lifecycle events (many at once),
stage the events `decide` yields, and write them, their index rows and their outbox
messages with a few bulk statements — all in the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from sqlalchemy import insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from services.initiator import tables
from shared.adapters.outbox import OutboxMessage, enqueue
from shared.adapters.topics import DESIGNATIONS
from shared.domain.decide_support import NewEvent
from shared.domain.envelope import Envelope
from shared.domain.fold import Recorded, evolve
from shared.domain.fold_handlers import apply
from shared.domain.fold_state import SubjectState
from shared.domain.lifecycle_events import DesignationIssued, ObjectionFiled


class ConcurrentChange(Exception):
    """Another transaction appended to a stream first (the subject locks should
    make this impossible; the unique (subject, version) constraint caught it)."""


@dataclass
class Stream:
    """One subject's stream: its last version and its folded state."""

    subject_id: str
    version: int = 0
    state: SubjectState = field(default_factory=SubjectState)

    def __post_init__(self) -> None:
        if self.state.subject_id is None:
            self.state = SubjectState(subject_id=self.subject_id)


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


@dataclass
class Staged:
    """Events decided in this transaction, not yet written; the streams they were
    staged on already show them (so a batch decides each item on the state left by
    the items before it)."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    envelopes: list[Envelope] = field(default_factory=list)
    designations: list[dict[str, Any]] = field(default_factory=list)
    objections: list[dict[str, Any]] = field(default_factory=list)
    touched: dict[UUID, str] = field(default_factory=dict)
    """designation id → subject: whose timers to plan again."""
    issued: set[UUID] = field(default_factory=set)

    def add(
        self,
        streams: dict[str, Stream],
        events: Sequence[NewEvent],
        envelopes: Sequence[Envelope],
    ) -> None:
        for event, env in zip(events, envelopes, strict=True):
            stream = streams[env.subject]
            stream.version += 1
            # The fold's own step, without decoding the envelope again: the event
            # comes straight from `decide` (what `evolve` does after `decode`).
            stream.state = apply(event.data, stream.state, env)
            self.rows.append(
                {
                    "event_id": env.id,
                    "subject_id": env.subject,
                    "stream_version": stream.version,
                    "type": env.type,
                    "envelope": env.model_dump(mode="json", exclude_none=True),
                }
            )
            self.envelopes.append(env)
            data = event.data
            designation_id = getattr(data, "designation_id", None)
            if isinstance(designation_id, UUID):
                self.touched[designation_id] = env.subject
            if isinstance(data, DesignationIssued):
                self.issued.add(data.designation_id)
                self.designations.append(
                    {
                        "designation_id": data.designation_id,
                        "subject_id": data.subject_id,
                        "designated_by": data.designated_by,
                        "list_type": data.list_type,
                    }
                )
            elif isinstance(data, ObjectionFiled):
                self.objections.append(
                    {
                        "objection_id": data.objection_id,
                        "designation_id": data.designation_id,
                        "subject_id": env.subject,
                    }
                )


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


async def existing_designations(conn: AsyncConnection, ids: Iterable[UUID]) -> set[UUID]:
    t = tables.designation_index
    wanted = list(set(ids))
    if not wanted:
        return set()
    rows = await conn.execute(select(t.c.designation_id).where(t.c.designation_id.in_(wanted)))
    return {r.designation_id for r in rows}


async def objection_target(conn: AsyncConnection, objection_id: UUID) -> tuple[UUID, str] | None:
    t = tables.objection_index
    row = (
        await conn.execute(
            select(t.c.designation_id, t.c.subject_id).where(t.c.objection_id == objection_id)
        )
    ).first()
    return (row.designation_id, row.subject_id) if row else None
