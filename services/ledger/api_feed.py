"""The change feed: every event after a position, for systems that poll instead of
consuming Kafka. Cursor-paged by global position, no ceiling on how far it goes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import ColumnElement, String, any_, cast, func, literal, or_, select

from services.ledger import store, tables
from services.ledger.access import shown
from services.ledger.api_subjects import public_event
from shared.web.deps import CurrentPrincipal, EngineDep
from shared.web.limits import MAX_ROW_ID

router = APIRouter(tags=["changes"])


def _concerning(department: str) -> ColumnElement[bool]:
    e, d = tables.events, tables.designations
    data = e.c.payload["data"]
    ours = select(cast(d.c.designation_id, String)).where(
        or_(d.c.designated_by == department, literal(department) == any_(d.c.departments))
    )
    return or_(data["department"].astext == department, data["designation_id"].astext.in_(ours))


@router.get("/changes")
async def changes(
    principal: CurrentPrincipal,
    engine: EngineDep,
    after: Annotated[
        int, Query(ge=0, le=MAX_ROW_ID, description="Last position already seen.")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> dict[str, Any]:
    """Events after `after` in position order; continue with `next_after`.

    Why the cursor can be trusted: appends take turns (services/ledger/store.py), so
    every position up to the highest one visible is committed or will never exist.
    The page is read up to that highest position; a short page moves the cursor to it,
    past positions that do not concern the caller (departments) or were rolled back.
    """
    e = tables.events
    async with engine.connect() as conn:
        head = (await conn.execute(select(func.max(e.c.position)))).scalar_one_or_none() or 0
        query = select(e).where(e.c.position > after, e.c.position <= head)
        if principal.department is not None:
            query = query.where(_concerning(principal.department))
        rows = await conn.execute(query.order_by(e.c.position).limit(limit))
        events = [store.row_to_event(r) for r in rows]
    full = len(events) == limit
    next_after = events[-1].position if full else max(after, head)
    doc: dict[str, Any] = shown(
        principal,
        {
            "after": after,
            "next_after": next_after,
            "head": head,
            "events": [public_event(ev) for ev in events],
        },
    )
    return doc
