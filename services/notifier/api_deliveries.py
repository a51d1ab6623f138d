"""`/v1/deliveries`: what was sent where, and how it went (ops; auditors read)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request

from services.notifier.access import OpsOrAuditor, OpsPrincipal
from services.notifier.ports import Delivery, DeliveryQuery, WebhookStore
from services.notifier.schemas import DeliveryPublic
from shared.domain.errors import NotFound
from shared.domain.identifiers import display
from shared.web.auth import Principal
from shared.web.limits import MAX_ROW_ID

router = APIRouter(prefix="/v1/deliveries", tags=["deliveries"])

State = Literal["held", "pending", "delivered", "dead", "cancelled"]


def _public(delivery: Delivery, principal: Principal) -> DeliveryPublic:
    row = asdict(delivery)
    fields = {k: row[k] for k in DeliveryPublic.model_fields}
    fields["subscription_id"] = str(row["subscription_id"])
    fields["subject_id"] = display(row["subject_id"], principal.sees_identity_numbers)
    return DeliveryPublic(**fields)


@router.get("", response_model=list[DeliveryPublic])
async def find(
    request: Request,
    principal: OpsOrAuditor,
    subscription: UUID | None = None,
    state: State | None = None,
    subject_id: str | None = None,
    after: int = Query(0, ge=0, le=MAX_ROW_ID, description="deliveries with a greater id"),
    limit: int = Query(100, ge=1, le=1000),
) -> list[DeliveryPublic]:
    """Deliveries by subscription, state and subject, in id order."""
    query = DeliveryQuery(
        subscription,
        state,
        None if subject_id is None else subject_id.strip().upper(),
        after,
        limit,
    )
    store: WebhookStore = request.app.state.webhooks
    async with store.begin() as tx:
        return [_public(d, principal) for d in await tx.queue.find(query)]


@router.post("/{delivery_id}/retry", response_model=DeliveryPublic)
async def retry(
    delivery_id: Annotated[int, Path(ge=1, le=MAX_ROW_ID)],
    request: Request,
    principal: OpsPrincipal,
) -> DeliveryPublic:
    """Send it again now (same webhook-id), whatever its state."""
    store: WebhookStore = request.app.state.webhooks
    async with store.begin() as tx:
        found = await tx.queue.retry(delivery_id)
    if found is None:
        raise NotFound("delivery_not_found", "id", "no such delivery")
    return _public(found, principal)
