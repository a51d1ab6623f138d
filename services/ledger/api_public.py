"""The publicity list (公示): public, no token needed."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import ColumnElement, and_, func, or_, select

from services.ledger import tables
from shared.domain.catalogue.index import default_index
from shared.domain.envelope import utc_now
from shared.domain.errors import NotFound
from shared.web.deps import EngineDep
from shared.web.limits import MAX_ROW_ID

router = APIRouter(tags=["public"])


def visible_at(now: datetime) -> ColumnElement[bool]:
    p = tables.public_entries
    return and_(p.c.visible_from <= now, or_(p.c.visible_until.is_(None), p.c.visible_until > now))


@router.get("/public/lists/{list_type}")
async def public_list(
    list_type: str,
    engine: EngineDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_ROW_ID)] = 0,
) -> dict[str, Any]:
    """Entries in force now on a published list: persons masked; repaired, revoked,
    expired, exited, superseded and not-yet-effective entries absent."""
    spec = default_index().list_type(list_type)
    if spec is None or not spec.published:
        code = "unknown_list_type" if spec is None else "list_not_published"
        raise NotFound(
            code,
            "list_type",
            f"{list_type!r} is not a published list type",
            reason="not a published list type",
        )
    now = utc_now()
    p = tables.public_entries
    where = and_(p.c.list_type == list_type, visible_at(now))
    async with engine.connect() as conn:
        total = (await conn.execute(select(func.count()).where(where))).scalar_one()
        rows = await conn.execute(
            select(p.c.entry)
            .where(where)
            .order_by(p.c.issued_at, p.c.designation_id)
            .limit(limit)
            .offset(offset)
        )
        entries = list(rows.scalars())
    return {
        "list_type": list_type,
        "name_zh": spec.name_zh,
        "name_en": spec.name_en,
        "polarity": spec.polarity.value,
        "as_of": now.isoformat(),
        "total": total,
        "limit": limit,
        "offset": offset,
        "entries": entries,
    }
