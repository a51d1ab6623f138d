"""The dashboard's numbers, from the ledger's projections and its event table (no
fold per request). "In force" and "overdue" read the windows the projection stored
(services/ledger/timeline.py), so they answer for now; days are China days (UTC+8).

Scope: `department` None (auditor, ops) sees everything; a department sees the
designations it made or holds tasks of, those designations' tasks, and its own
interceptions — the rule of services/ledger/access.py."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Date, and_, any_, cast, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.ledger import tables
from services.ledger.stats import _concerning_tasks, _within, joint_sanction_in_force
from shared.adapters.topics import DEADLETTER
from shared.domain.china_time import china_date, start_of_china_day

INTERCEPTED = "jsb.feedback.intercepted"


def _ours(department: str | None) -> ColumnElement[bool]:
    d = tables.designations
    if department is None:
        return literal(True)
    return or_(d.c.designated_by == department, literal(department) == any_(d.c.departments))


def _china_day(column: Any) -> Any:
    return cast(func.timezone("Asia/Shanghai", column), Date)


def _intercepted(department: str | None) -> ColumnElement[bool]:
    e = tables.events
    kind = e.c.type == INTERCEPTED
    if department is None:
        return kind
    return and_(kind, e.c.payload["data"]["department"].astext == department)


async def tiles(conn: AsyncConnection, now: datetime, department: str | None) -> dict[str, Any]:
    """The tiles: subjects under sanction, designations in force by list type, objections
    pending and overdue, interceptions today, tasks overdue (dead letters and consumer
    lag are added by the route, for auditor and ops)."""
    d, t, e = tables.designations, tables.tasks, tables.events
    in_force = _within(d.c.in_force_from, d.c.in_force_until, now)
    open_objection = d.c.view["objection"]["status"].astext == "open"
    review_deadline = cast(d.c.view["objection"]["review_deadline"].astext, Date)
    row = (
        await conn.execute(
            select(
                func.count(func.distinct(d.c.subject_id))
                .filter(joint_sanction_in_force(now))
                .label("sanctioned"),
                func.count().filter(in_force).label("in_force"),
                func.count().filter(open_objection).label("objections_pending"),
                func.count()
                .filter(and_(open_objection, review_deadline < china_date(now)))
                .label("objections_overdue"),
            ).where(_ours(department))
        )
    ).one()
    by_list = await conn.execute(
        select(d.c.list_type, func.count().label("n"))
        .where(and_(_ours(department), in_force))
        .group_by(d.c.list_type)
        .order_by(d.c.list_type)
    )
    overdue = (
        await conn.execute(
            select(func.count())
            .select_from(t)
            .where(
                and_(
                    _concerning_tasks(department), _within(t.c.overdue_from, t.c.overdue_until, now)
                )
            )
        )
    ).scalar_one()
    today = start_of_china_day(china_date(now))
    intercepted = (
        await conn.execute(
            select(func.count())
            .select_from(e)
            .where(and_(_intercepted(department), e.c.effective_at >= today))
        )
    ).scalar_one()
    return {
        "subjects_under_sanction": row.sanctioned,
        "designations_in_force": row.in_force,
        "designations_in_force_by_list_type": {r.list_type: r.n for r in by_list},
        "objections_pending": row.objections_pending,
        "objections_overdue": row.objections_overdue,
        "interceptions_today": intercepted,
        "tasks_overdue": overdue,
    }


def _days(now: datetime, days: int) -> list[date]:
    last = china_date(now)
    return [last - timedelta(days=n) for n in range(days - 1, -1, -1)]


def _series(days: list[date], rows: Any) -> dict[str, list[int]]:
    index = {day: i for i, day in enumerate(days)}
    series: dict[str, list[int]] = {}
    for key, day, n in rows:
        if day in index:
            series.setdefault(key, [0] * len(days))[index[day]] = n
    return dict(sorted(series.items()))


async def designations_per_day(
    conn: AsyncConnection, now: datetime, days: int, department: str | None
) -> dict[str, Any]:
    """Designations issued per China day (by their issue instant), per list type."""
    d = tables.designations
    axis = _days(now, days)
    day = _china_day(d.c.issued_at)
    rows = await conn.execute(
        select(d.c.list_type, day.label("day"), func.count())
        .where(and_(_ours(department), d.c.issued_at >= start_of_china_day(axis[0])))
        .group_by(d.c.list_type, day)
    )
    return {"days": [x.isoformat() for x in axis], "series": _series(axis, rows.all())}


async def interceptions_per_day(
    conn: AsyncConnection, now: datetime, days: int, department: str | None
) -> dict[str, Any]:
    """Interceptions (blocked checks reported as feedback) per China day, per measure."""
    e = tables.events
    axis = _days(now, days)
    day = _china_day(e.c.effective_at)
    measure = e.c.payload["data"]["measure"].astext
    rows = await conn.execute(
        select(measure, day.label("day"), func.count())
        .where(and_(_intercepted(department), e.c.effective_at >= start_of_china_day(axis[0])))
        .group_by(measure, day)
    )
    return {"days": [x.isoformat() for x in axis], "series": _series(axis, rows.all())}


async def overdue_tasks(
    conn: AsyncConnection, now: datetime, of_department: str, department: str | None, limit: int
) -> list[dict[str, Any]]:
    """The overdue tasks of one implementing department (the drill-down), oldest
    deadline first."""
    t, d = tables.tasks, tables.designations
    rows = await conn.execute(
        select(
            t.c.subject_id,
            t.c.designation_id,
            t.c.measure,
            t.c.deadline,
            t.c.designated_by,
            t.c.issued_at,
            d.c.list_type,
        )
        .join(
            d,
            and_(d.c.subject_id == t.c.subject_id, d.c.designation_id == t.c.designation_id),
        )
        .where(
            and_(
                t.c.department == of_department,
                _concerning_tasks(department),
                _within(t.c.overdue_from, t.c.overdue_until, now),
            )
        )
        .order_by(t.c.deadline, t.c.subject_id, t.c.measure)
        .limit(limit)
    )
    return [
        {
            "subject_id": r.subject_id,
            "designation_id": str(r.designation_id),
            "list_type": r.list_type,
            "measure": r.measure,
            "deadline": r.deadline.isoformat(),
            "designated_by": r.designated_by,
            "issued_at": r.issued_at.isoformat(),
        }
        for r in rows
    ]


async def head(conn: AsyncConnection) -> int:
    """The highest visible position (0: no event yet)."""
    value = (await conn.execute(select(func.max(tables.events.c.position)))).scalar_one()
    return int(value or 0)


async def events_after(conn: AsyncConnection, after: int, limit: int) -> list[dict[str, Any]]:
    """A short summary of each event past `after`, for the live feed."""
    e = tables.events
    rows = await conn.execute(
        select(
            e.c.position,
            e.c.type,
            e.c.stream,
            e.c.effective_at,
            e.c.payload["data"]["designation_id"].astext.label("designation_id"),
            e.c.payload["data"]["list_type"].astext.label("list_type"),
            e.c.payload["data"]["department"].astext.label("department"),
            e.c.payload["source"].astext.label("source"),
        )
        .where(e.c.position > after)
        .order_by(e.c.position)
        .limit(limit)
    )
    return [
        {
            "position": r.position,
            "type": r.type,
            "subject_id": r.stream,
            "effective_at": r.effective_at.isoformat(),
            "designation_id": r.designation_id,
            "list_type": r.list_type,
            "department": r.department,
            "source": r.source,
        }
        for r in rows
    ]


async def dead_letters(conn: AsyncConnection) -> int:
    """Records this ledger sent to the dead-letter topic (its outbox keeps them)."""
    o = tables.outbox
    return int(
        (
            await conn.execute(select(func.count()).where(o.c.topic.startswith(DEADLETTER)))
        ).scalar_one()
    )
