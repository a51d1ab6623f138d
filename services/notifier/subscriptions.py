"""Subscriptions: create (the secret shown once), rotate the secret with an overlap,
delete, enable, disable after failing too long (ops told), recover what was missed.
Service layer: the `Webhooks` port of one transaction in (ports.py), domain refusals
(shared/domain/errors.py) out."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from services.notifier import notice_texts, url_rules
from services.notifier.filters import Filters, passes
from services.notifier.notices import OPS, Notice
from services.notifier.ports import (
    DELETED,
    DISABLED,
    ENABLED,
    NewSubscription,
    Subscription,
    Webhooks,
)
from services.notifier.secret_box import SecretBox
from services.notifier.settings import NotifierSettings
from services.notifier.signing import new_secret
from services.notifier.status_batch import webhook_id
from shared.domain.errors import Conflict, InvalidRequest, NotFound

__all__ = [
    "DISABLED",
    "ENABLED",
    "NewSubscription",
    "all_",
    "check_url",
    "create",
    "delete",
    "disable_if_down",
    "enable",
    "get",
    "note_outcome",
    "public",
    "recover",
    "rotate",
    "signing_secrets",
]


def check_url(settings: NotifierSettings, url: str) -> None:
    why = url_rules.refusal(
        url,
        allow_loopback=settings.allow_loopback,
        allowed_cidrs=settings.allowed_private_cidrs,
    )
    if why is not None:
        raise InvalidRequest("url_refused", "url", why)


def public(sub: Subscription) -> dict[str, Any]:
    return {**asdict(sub), "id": str(sub.id)}


async def _found(tx: Webhooks, sid: UUID) -> Subscription:
    sub = await tx.subscriptions.get(sid)
    if sub is None or sub.state == DELETED:
        raise NotFound("subscription_not_found", "id", "no such subscription")
    return sub


async def create(
    tx: Webhooks, box: SecretBox, new: NewSubscription, by: str
) -> tuple[dict[str, Any], str]:
    secret = new_secret()
    sub = await tx.subscriptions.create(uuid4(), new, by, box.seal(secret))
    return public(sub), secret


async def get(tx: Webhooks, sid: UUID) -> dict[str, Any]:
    return public(await _found(tx, sid))


async def all_(tx: Webhooks) -> list[dict[str, Any]]:
    return [public(s) for s in await tx.subscriptions.listed()]


async def delete(tx: Webhooks, sid: UUID) -> None:
    """Deleted, and its pending deliveries cancelled."""
    await _found(tx, sid)
    await tx.subscriptions.delete(sid)
    await tx.queue.cancel_pending(sid)


async def rotate(
    tx: Webhooks, box: SecretBox, sid: UUID, overlap: timedelta
) -> tuple[str, datetime]:
    """A new secret signs from now; the ones before it keep signing until `overlap` ends."""
    await _found(tx, sid)
    ends = datetime.now(UTC) + overlap
    secret = new_secret()
    await tx.subscriptions.rotate_secret(sid, box.seal(secret), ends)
    return secret, ends


async def signing_secrets(tx: Webhooks, box: SecretBox, sid: UUID) -> list[str]:
    return [box.open(s) for s in await tx.subscriptions.secrets(sid, datetime.now(UTC))]


async def enable(tx: Webhooks, sid: UUID) -> dict[str, Any]:
    """Enabled, and in the same transaction its held deliveries (queued while it was
    disabled) and the ones that died during the failing streak that disabled it
    pending again: the claim's rule then sends each subject's changes in position
    order, whenever (or whether) `recover` follows."""
    await _found(tx, sid)
    sub = await tx.subscriptions.get(sid, lock=True)
    assert sub is not None
    streak = sub.failing_since if sub.state == DISABLED else None
    await tx.subscriptions.enable(sid)
    await tx.queue.release(sid, streak)
    return await get(tx, sid)


async def recover(
    tx: Webhooks, sid: UUID, since_position: int | None, since_time: datetime | None
) -> int:
    sub = await _found(tx, sid)
    if sub.state != ENABLED:
        raise Conflict("subscription_disabled", "id", "enable the subscription before recovering")
    filters = Filters.model_validate(sub.filters)
    return await tx.queue.recover(
        sid,
        lambda facets, subject: passes(filters, facets, subject),
        webhook_id,
        since_position=since_position,
        since_time=since_time,
    )


async def note_outcome(
    tx: Webhooks,
    sid: UUID,
    ok: bool,
    disable_after: timedelta,
    reason: str = "",
    at: datetime | None = None,
) -> bool:
    """Track an endpoint's failing streak; disable it (and tell ops and its contact)
    when it has failed without a success for `disable_after`. True when disabled now.
    `at`: when the attempt failed (the time its delivery was marked with; None: now),
    so a streak starts no later than the death that started it."""
    if ok:
        await tx.subscriptions.set_failing_since(sid, None)
        return False
    now = at or datetime.now(UTC)
    sub = await tx.subscriptions.get(sid, lock=True)
    if sub is None or sub.state != ENABLED:
        return False
    if sub.failing_since is None:
        await tx.subscriptions.set_failing_since(sid, now)
        return False
    return await _disable_if_due(tx, sub, disable_after, reason, now)


SWEPT = "no success since, and no attempt left to notice it (the disable sweep)"
"""The reason the sweep gives (after "failing since …:"): no attempt ended its streak."""


async def disable_if_down(tx: Webhooks, sid: UUID, disable_after: timedelta, now: datetime) -> bool:
    """The sweep's rule (disable_sweep.py): an enabled subscription whose endpoint has
    been failing since `disable_after` before `now` or earlier, without a success
    since, is disabled as `note_outcome` disables it (same reason's form, same
    notices) — even when no attempt comes after the window to notice it (with little
    traffic every delivery may die before it ends). Locked like an outcome: a success
    recorded meanwhile ends the streak first, and a second instance's sweep finds it
    disabled. True when disabled now."""
    sub = await tx.subscriptions.get(sid, lock=True)
    if sub is None or sub.state != ENABLED:
        return False
    return await _disable_if_due(tx, sub, disable_after, SWEPT, now)


async def _disable_if_due(
    tx: Webhooks, sub: Subscription, disable_after: timedelta, reason: str, now: datetime
) -> bool:
    """Disabled (ops and its contact told) if it has been failing for `disable_after`."""
    if sub.failing_since is None or now - sub.failing_since < disable_after:
        return False
    why = f"failing since {sub.failing_since.isoformat()}: {reason}"[:300]
    await tx.subscriptions.disable(sub.id, now, why)
    await tx.notices.tell(_disabled_notices(sub, now, why))
    return True


def _disabled_notices(sub: Subscription, now: datetime, why: str) -> list[Notice]:
    zh, en = notice_texts.endpoint_disabled(sub.name, sub.url, why)
    details = {"subscription_id": str(sub.id), "url": sub.url, "reason": why}
    told = [
        Notice(
            f"endpoint_disabled:{sub.id}:{now.isoformat()}",
            "endpoint_disabled",
            OPS,
            OPS,
            zh,
            en,
            details=details,
        )
    ]
    if sub.contact:
        told.append(
            Notice(
                f"endpoint_disabled:{sub.id}:{now.isoformat()}:contact",
                "endpoint_disabled",
                "department",
                sub.contact,
                zh,
                en,
                department=sub.contact,
                details=details,
            )
        )
    return told
