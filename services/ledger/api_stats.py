"""Dashboard numbers: per department, and an overview."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.ledger import stats
from shared.domain.envelope import utc_now
from shared.web.deps import CurrentPrincipal, EngineDep

router = APIRouter(tags=["stats"])


@router.get("/stats/departments")
async def departments(principal: CurrentPrincipal, engine: EngineDep) -> dict[str, Any]:
    """Per implementing department: tasks assigned, answered, overdue now, and the
    median time from designation to first feedback."""
    now = utc_now()
    async with engine.connect() as conn:
        rows = await stats.departments(conn, now, principal.department)
    return {"as_of": now.isoformat(), "departments": rows}


@router.get("/stats/overview")
async def overview(principal: CurrentPrincipal, engine: EngineDep) -> dict[str, Any]:
    """Designations (in force now, by list type), subjects, tasks, events, dead letters."""
    async with engine.connect() as conn:
        return await stats.overview(conn, utc_now(), principal.department)
