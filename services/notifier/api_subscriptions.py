"""`/v1/subscriptions`: webhook subscribers (ops token)."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from fastapi import APIRouter, Request, Response

from services.notifier import subscriptions as subs
from services.notifier.access import OpsPrincipal
from services.notifier.schemas import (
    Recover,
    Recovered,
    SecretRotated,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionPublic,
)
from services.notifier.settings import NotifierSettings
from shared.web.deps import EngineDep

router = APIRouter(prefix="/v1/subscriptions", tags=["subscriptions"])


@router.post("", status_code=201, response_model=SubscriptionCreated)
async def create(
    body: SubscriptionCreate, request: Request, engine: EngineDep, principal: OpsPrincipal
) -> SubscriptionCreated:
    """Subscribe a URL; the answer carries the signing secret, shown only this once."""
    settings: NotifierSettings = request.app.state.settings
    subs.check_url(settings, body.url)
    new = subs.NewSubscription(
        body.name, body.url, body.filters, body.contact, body.rate_limit_per_s
    )
    async with engine.begin() as conn:
        row, secret = await subs.create(conn, request.app.state.secret_box, new, principal.name)
    return SubscriptionCreated(**row, secret=secret)


@router.get("", response_model=list[SubscriptionPublic])
async def list_all(engine: EngineDep, _: OpsPrincipal) -> list[SubscriptionPublic]:
    """Every subscription (secrets never shown)."""
    async with engine.connect() as conn:
        return [SubscriptionPublic(**r) for r in await subs.all_(conn)]


@router.get("/{subscription_id}", response_model=SubscriptionPublic)
async def get_one(subscription_id: UUID, engine: EngineDep, _: OpsPrincipal) -> SubscriptionPublic:
    """One subscription."""
    async with engine.connect() as conn:
        return SubscriptionPublic(**await subs.get(conn, subscription_id))


@router.delete("/{subscription_id}", status_code=204)
async def delete(subscription_id: UUID, engine: EngineDep, _: OpsPrincipal) -> Response:
    """Stop delivering to it (pending deliveries are cancelled)."""
    async with engine.begin() as conn:
        await subs.delete(conn, subscription_id)
    return Response(status_code=204)


@router.post("/{subscription_id}/secret/rotate", response_model=SecretRotated)
async def rotate(
    subscription_id: UUID, request: Request, engine: EngineDep, _: OpsPrincipal
) -> SecretRotated:
    """A new secret; the old one keeps signing beside it for the configured overlap."""
    settings: NotifierSettings = request.app.state.settings
    async with engine.begin() as conn:
        secret, until = await subs.rotate(
            conn,
            request.app.state.secret_box,
            subscription_id,
            timedelta(seconds=settings.secret_overlap_s),
        )
    return SecretRotated(secret=secret, previous_valid_until=until)


@router.post("/{subscription_id}/enable", response_model=SubscriptionPublic)
async def enable(subscription_id: UUID, engine: EngineDep, _: OpsPrincipal) -> SubscriptionPublic:
    """Deliver to it again (after it was disabled for failing)."""
    async with engine.begin() as conn:
        return SubscriptionPublic(**await subs.enable(conn, subscription_id))


@router.post("/{subscription_id}/recover", response_model=Recovered)
async def recover(
    subscription_id: UUID, body: Recover, engine: EngineDep, _: OpsPrincipal
) -> Recovered:
    """Re-send, in order, every change it missed since a time or a status-log position."""
    async with engine.begin() as conn:
        queued = await subs.recover(conn, subscription_id, body.since_position, body.since)
    return Recovered(queued=queued)
