"""`/v1/deliveries`: what was sent where, and how it went (ops; auditors read)."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Path, Query
from sqlalchemy import select

from services.notifier import delivery_queue, tables
from services.notifier.access import OpsOrAuditor, OpsPrincipal
from services.notifier.schemas import DeliveryPublic
from shared.domain.errors import NotFound
from shared.domain.identifiers import display
from shared.web.auth import Principal
from shared.web.deps import EngineDep
from shared.web.limits import MAX_ROW_ID

router = APIRouter(prefix="/v1/deliveries", tags=["deliveries"])

State = Literal["pending", "delivered", "dead", "cancelled"]


def _public(row: dict[str, Any], principal: Principal) -> DeliveryPublic:
    fields = {k: row[k] for k in DeliveryPublic.model_fields}
    fields["subscription_id"] = str(row["subscription_id"])
    fields["subject_id"] = display(row["subject_id"], principal.sees_identity_numbers)
    return DeliveryPublic(**fields)


@router.get("", response_model=list[DeliveryPublic])
async def find(
    engine: EngineDep,
    principal: OpsOrAuditor,
    subscription: UUID | None = None,
    state: State | None = None,
    subject_id: str | None = None,
    after: int = Query(0, ge=0, le=MAX_ROW_ID, description="deliveries with a greater id"),
    limit: int = Query(100, ge=1, le=1000),
) -> list[DeliveryPublic]:
    """Deliveries by subscription, state and subject, in id order."""
    d = tables.deliveries
    query = select(d).where(d.c.id > after).order_by(d.c.id).limit(limit)
    if subscription is not None:
        query = query.where(d.c.subscription_id == subscription)
    if state is not None:
        query = query.where(d.c.state == state)
    if subject_id is not None:
        query = query.where(d.c.subject_id == subject_id.strip().upper())
    async with engine.connect() as conn:
        rows = await conn.execute(query)
        return [_public(dict(r._mapping), principal) for r in rows]


@router.post("/{delivery_id}/retry", response_model=DeliveryPublic)
async def retry(
    delivery_id: Annotated[int, Path(ge=1, le=MAX_ROW_ID)],
    engine: EngineDep,
    principal: OpsPrincipal,
) -> DeliveryPublic:
    """Send it again now (same webhook-id), whatever its state."""
    async with engine.begin() as conn:
        row = await delivery_queue.retry(conn, delivery_id)
    if row is None:
        raise NotFound("delivery_not_found", "id", "no such delivery")
    return _public(row, principal)
