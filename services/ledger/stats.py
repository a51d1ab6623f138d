"""Numbers for the dashboard, from the projections (no fold per request): tasks per
implementing department, and an overview. "Overdue" and "in force" read the windows
the projection stored (services/ledger/timeline.py), so they are exact for now."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Float, and_, any_, cast, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.ledger import tables
from shared.adapters.topics import DEADLETTER


def _within(start: Any, until: Any, now: datetime) -> ColumnElement[bool]:
    return and_(start.is_not(None), start <= now, or_(until.is_(None), until > now))


def joint_sanction_in_force(now: datetime) -> ColumnElement[bool]:
    """A designation in force now that makes its subject a joint-sanction target: the
    domain's `joint_sanction` of the designation (its level at or above the list type's
    `joint_sanction_from`). Polarity alone would count record-only and lower tiers."""
    d = tables.designations
    return and_(
        _within(d.c.in_force_from, d.c.in_force_until, now),
        d.c.view["joint_sanction"].as_boolean().is_(True),
    )


def _task_columns(now: datetime) -> list[Any]:
    t = tables.tasks
    seconds = func.greatest(
        literal(0.0), cast(func.extract("epoch", t.c.answered_at - t.c.issued_at), Float)
    )
    return [
        func.count().label("assigned"),
        func.count(t.c.answered_at).label("answered"),
        func.count().filter(_within(t.c.overdue_from, t.c.overdue_until, now)).label("overdue"),
        func.percentile_cont(0.5)
        .within_group(seconds)
        .filter(t.c.answered_at.is_not(None))
        .label("median_feedback_seconds"),
    ]


def _task_numbers(row: Any) -> dict[str, Any]:
    median = row.median_feedback_seconds
    return {
        "assigned": row.assigned,
        "answered": row.answered,
        "unanswered": row.assigned - row.answered,
        "overdue": row.overdue,
        "median_feedback_seconds": None if median is None else round(float(median), 3),
    }


def _concerning_tasks(department: str | None) -> ColumnElement[bool]:
    t = tables.tasks
    if department is None:
        return literal(True)
    return or_(t.c.department == department, t.c.designated_by == department)


async def departments(
    conn: AsyncConnection, now: datetime, department: str | None
) -> list[dict[str, Any]]:
    """One row per implementing department (a department: its own tasks and the tasks
    of the designations it made)."""
    t = tables.tasks
    rows = await conn.execute(
        select(t.c.department, *_task_columns(now))
        .where(_concerning_tasks(department))
        .group_by(t.c.department)
        .order_by(t.c.department)
    )
    return [{"department": r.department, **_task_numbers(r)} for r in rows]


async def overview(conn: AsyncConnection, now: datetime, department: str | None) -> dict[str, Any]:
    d = tables.designations
    task_row = (
        await conn.execute(select(*_task_columns(now)).where(_concerning_tasks(department)))
    ).one()
    ours = (
        literal(True)
        if department is None
        else or_(d.c.designated_by == department, literal(department) == any_(d.c.departments))
    )
    in_force = _within(d.c.in_force_from, d.c.in_force_until, now)
    drow = (
        await conn.execute(
            select(
                func.count().label("total"),
                func.count().filter(in_force).label("in_force"),
                func.count(func.distinct(d.c.subject_id)).label("subjects"),
                func.count(func.distinct(d.c.subject_id))
                .filter(joint_sanction_in_force(now))
                .label("sanctioned"),
            ).where(ours)
        )
    ).one()
    by_list = await conn.execute(
        select(d.c.list_type, func.count().label("n"))
        .where(and_(ours, in_force))
        .group_by(d.c.list_type)
        .order_by(d.c.list_type)
    )
    doc: dict[str, Any] = {
        "as_of": now.isoformat(),
        "scope": "all" if department is None else department,
        "designations": {
            "total": drow.total,
            "in_force": drow.in_force,
            "in_force_by_list_type": {r.list_type: r.n for r in by_list},
        },
        "subjects": {"designated": drow.subjects, "under_sanction_in_force": drow.sanctioned},
        "tasks": _task_numbers(task_row),
    }
    if department is None:
        doc["events"] = (
            await conn.execute(select(func.count()).select_from(tables.events))
        ).scalar_one()
        o = tables.outbox
        doc["dead_letters"] = (
            await conn.execute(select(func.count()).where(o.c.topic.startswith(DEADLETTER)))
        ).scalar_one()
    return doc
