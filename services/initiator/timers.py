"""Timers in Postgres: planned in the transaction of the events that cause them,
picked when due by the timer loop (services/initiator/timer_loop.py)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import Text, and_, cast, func, not_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.initiator import tables
from services.initiator.timer_plan import TimerKind, TimerSpec, plan
from shared.domain.decide_support import CatalogueLookup
from shared.domain.fold_state import DesignationRecord

CANCELLED = "cancelled"
FIRED = "fired"


async def sync(
    conn: AsyncConnection,
    records: Iterable[DesignationRecord],
    catalogue: CatalogueLookup,
    *,
    remind_before_working_days: int,
    fresh: set[UUID] | frozenset[UUID] = frozenset(),
) -> None:
    """Store the timers the (changed) designations need now, and cancel those they no
    longer need. `fresh`: designations issued in this transaction (nothing to cancel)."""
    records = list(records)
    specs = [
        s
        for r in records
        for s in plan(r, catalogue, remind_before_working_days=remind_before_working_days)
    ]
    t = tables.timers
    if specs:
        stmt = pg_insert(t)
        # A moved instant re-arms the row; an unchanged one keeps its state (a
        # reminder that already fired is not sent again).
        await conn.execute(
            stmt.on_conflict_do_update(
                constraint="timers_kind_target",
                set_={
                    "due_at": stmt.excluded.due_at,
                    "done_at": None,
                    "outcome": None,
                    "attempts": 0,
                },
                where=(t.c.due_at != stmt.excluded.due_at) | (t.c.outcome == CANCELLED),
            ),
            [_row(s) for s in specs],
        )
    changed = [r.designation_id for r in records if r.designation_id not in fresh]
    if changed:
        keep = [s.key for s in specs if s.designation_id in set(changed)]
        await conn.execute(
            update(t)
            .where(
                t.c.designation_id.in_(changed),
                t.c.done_at.is_(None),
                not_((t.c.kind + ":" + cast(t.c.target_id, Text)).in_(keep))
                if keep
                else text("true"),
            )
            .values(done_at=func.now(), outcome=CANCELLED)
        )


def _row(s: TimerSpec) -> dict[str, object]:
    return {
        "kind": s.kind.value,
        "target_id": s.target_id,
        "designation_id": s.designation_id,
        "subject_id": s.subject_id,
        "department": s.department,
        "due_at": s.due_at,
    }


@dataclass(frozen=True, slots=True)
class DueTimer:
    id: int
    kind: TimerKind
    target_id: UUID
    subject_id: str
    department: str
    due_at: datetime
    attempts: int


async def due(conn: AsyncConnection, limit: int) -> list[tuple[int, str]]:
    """(id, subject) of timers due now, oldest first (no lock: `claim` decides)."""
    t = tables.timers
    rows = await conn.execute(
        select(t.c.id, t.c.subject_id)
        .where(t.c.done_at.is_(None), t.c.due_at <= func.now())
        .order_by(t.c.due_at)
        .limit(limit)
    )
    return [(r.id, r.subject_id) for r in rows]


async def claim(conn: AsyncConnection, timer_id: int) -> DueTimer | None:
    """Lock the timer for this transaction if it is still due and nobody holds it.

    SKIP LOCKED: another initiator instance firing the same timer right now makes
    this one move on instead of waiting to find it done."""
    t = tables.timers
    row = (
        await conn.execute(
            select(t)
            .where(and_(t.c.id == timer_id, t.c.done_at.is_(None), t.c.due_at <= func.now()))
            .with_for_update(skip_locked=True)
        )
    ).first()
    if row is None:
        return None
    return DueTimer(
        row.id,
        TimerKind(row.kind),
        row.target_id,
        row.subject_id,
        row.department,
        row.due_at,
        row.attempts,
    )


async def finish(conn: AsyncConnection, timer_id: int, outcome: str) -> None:
    t = tables.timers
    await conn.execute(
        update(t).where(t.c.id == timer_id).values(done_at=func.now(), outcome=outcome[:500])
    )


async def retry_later(
    conn: AsyncConnection, timer_id: int, max_backoff_s: float, error: str
) -> None:
    """Postpone a timer that failed or came too early: 2, 4, 8, ... seconds, capped."""
    t = tables.timers
    backoff = func.least(max_backoff_s, func.power(2, t.c.attempts + 1))
    await conn.execute(
        update(t)
        .where(t.c.id == timer_id, t.c.done_at.is_(None))
        .values(
            attempts=t.c.attempts + 1,
            due_at=func.now() + func.make_interval(0, 0, 0, 0, 0, 0, backoff),
            outcome=("retry: " + error)[:500],
        )
    )
