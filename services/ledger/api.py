"""The ledger's HTTP reads."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from services.ledger import store, tables
from shared.web.deps import CurrentPrincipal, EngineDep

router = APIRouter(prefix="/v1", tags=["ledger"])


def _public(e: store.StoredEvent) -> dict[str, Any]:
    return {
        "position": e.position,
        "event_id": str(e.event_id),
        "stream_version": e.stream_version,
        "type": e.type,
        "schema_version": e.schema_version,
        "effective_at": e.effective_at.isoformat(),
        "recorded_at": e.recorded_at.isoformat(),
        "source": e.source.__dict__ if e.source else None,
        "prev_hash": e.prev_hash,
        "hash": e.hash,
        "event": e.payload,
    }


@router.get("/subjects/{subject_id}/history")
async def history(
    subject_id: str, principal: CurrentPrincipal, engine: EngineDep
) -> dict[str, Any]:
    """Every event of the subject in order, with positions, times and hashes."""
    async with engine.connect() as conn:
        events = await store.stream(conn, tables.events, subject_id)
    return {"subject_id": subject_id, "events": [_public(e) for e in events]}


@router.get("/changes")
async def changes(
    principal: CurrentPrincipal,
    engine: EngineDep,
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> dict[str, Any]:
    """Cursor-paged change feed: every event after a position, in position order."""
    async with engine.connect() as conn:
        events = await store.after(conn, tables.events, after, limit)
    next_after = events[-1].position if events else after
    return {"after": after, "next_after": next_after, "events": [_public(e) for e in events]}
