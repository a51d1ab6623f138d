"""`/v1/subscriptions`: webhook subscribers (ops token).

The calls that make something new (create, rotate, recover) accept an
`Idempotency-Key` (the `IdempotencyStore` port wired in bootstrap.py): a retry gets
the first answer. An answer that carries a signing secret is stored with the secret
sealed (the secret box), never in clear, and opened again for the reply. Everything
else goes through the `WebhookStore` port (`app.state.webhooks`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request, Response

from services.notifier import subscriptions as subs
from services.notifier.access import OpsPrincipal
from services.notifier.ports import Webhooks, WebhookStore
from services.notifier.schemas import (
    Recover,
    Recovered,
    SecretRotated,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionPublic,
)
from services.notifier.secret_box import SecretBox
from services.notifier.settings import NotifierSettings
from shared.adapters import idempotency
from shared.ports import IdempotencyStore
from shared.web.auth import Principal
from shared.web.deps import IdempotencyKey

router = APIRouter(prefix="/v1/subscriptions", tags=["subscriptions"])

Action = Callable[[Webhooks], Awaitable[tuple[int, Any]]]


def _store(request: Request) -> WebhookStore:
    store: WebhookStore = request.app.state.webhooks
    return store


async def _once(
    request: Request, principal: Principal, key: str | None, body: Any, action: Action
) -> Any:
    answers: IdempotencyStore[Webhooks] = request.app.state.idempotency
    _, answer = await answers.run_once(
        principal=principal.name,
        key=key,
        fingerprint=idempotency.request_fingerprint(request.method, request.url.path, body),
        action=action,
    )
    box: SecretBox = request.app.state.secret_box
    if isinstance(answer, dict) and "secret" in answer:
        answer = {**answer, "secret": box.open(answer["secret"])}
    return answer


@router.post("", status_code=201, response_model=SubscriptionCreated)
async def create(
    body: SubscriptionCreate,
    request: Request,
    principal: OpsPrincipal,
    key: IdempotencyKey = None,
) -> SubscriptionCreated:
    """Subscribe a URL; the answer carries the signing secret, shown only this once."""
    settings: NotifierSettings = request.app.state.settings
    box: SecretBox = request.app.state.secret_box
    subs.check_url(settings, body.url)
    new = subs.NewSubscription(
        body.name, body.url, body.filters, body.contact, body.rate_limit_per_s
    )

    async def action(tx: Webhooks) -> tuple[int, Any]:
        row, secret = await subs.create(tx, box, new, principal.name)
        created = SubscriptionCreated(**row, secret=box.seal(secret))
        return 201, created.model_dump(mode="json")

    answer = await _once(request, principal, key, body.model_dump(mode="json"), action)
    return SubscriptionCreated(**answer)


@router.get("", response_model=list[SubscriptionPublic])
async def list_all(request: Request, _: OpsPrincipal) -> list[SubscriptionPublic]:
    """Every subscription (secrets never shown)."""
    async with _store(request).begin() as tx:
        return [SubscriptionPublic(**r) for r in await subs.all_(tx)]


@router.get("/{subscription_id}", response_model=SubscriptionPublic)
async def get_one(subscription_id: UUID, request: Request, _: OpsPrincipal) -> SubscriptionPublic:
    """One subscription."""
    async with _store(request).begin() as tx:
        return SubscriptionPublic(**await subs.get(tx, subscription_id))


@router.delete("/{subscription_id}", status_code=204)
async def delete(subscription_id: UUID, request: Request, _: OpsPrincipal) -> Response:
    """Stop delivering to it (pending deliveries are cancelled)."""
    async with _store(request).begin() as tx:
        await subs.delete(tx, subscription_id)
    return Response(status_code=204)


@router.post("/{subscription_id}/secret/rotate", response_model=SecretRotated)
async def rotate(
    subscription_id: UUID,
    request: Request,
    principal: OpsPrincipal,
    key: IdempotencyKey = None,
) -> SecretRotated:
    """A new secret; the old one keeps signing beside it for the configured overlap."""
    settings: NotifierSettings = request.app.state.settings
    box: SecretBox = request.app.state.secret_box

    async def action(tx: Webhooks) -> tuple[int, Any]:
        secret, until = await subs.rotate(
            tx, box, subscription_id, timedelta(seconds=settings.secret_overlap_s)
        )
        rotated = SecretRotated(secret=box.seal(secret), previous_valid_until=until)
        return 200, rotated.model_dump(mode="json")

    return SecretRotated(**await _once(request, principal, key, None, action))


@router.post("/{subscription_id}/enable", response_model=SubscriptionPublic)
async def enable(subscription_id: UUID, request: Request, _: OpsPrincipal) -> SubscriptionPublic:
    """Deliver to it again (after it was disabled for failing)."""
    async with _store(request).begin() as tx:
        return SubscriptionPublic(**await subs.enable(tx, subscription_id))


@router.post("/{subscription_id}/recover", response_model=Recovered)
async def recover(
    subscription_id: UUID,
    body: Recover,
    request: Request,
    principal: OpsPrincipal,
    key: IdempotencyKey = None,
) -> Recovered:
    """Re-send, in order, every change it missed since a time or a status-log position."""

    async def action(tx: Webhooks) -> tuple[int, Any]:
        queued = await subs.recover(tx, subscription_id, body.since_position, body.since)
        return 200, {"queued": queued}

    return Recovered(**await _once(request, principal, key, body.model_dump(mode="json"), action))
