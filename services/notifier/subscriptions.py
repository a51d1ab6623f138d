"""Subscriptions: create (the secret shown once), rotate the secret with an overlap,
delete, enable, disable after failing too long (ops told), recover what was missed.
Service layer: Postgres in, domain refusals (shared/domain/errors.py) out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.notifier import delivery_queue, notice_texts, tables, url_rules
from services.notifier.filters import Filters, passes
from services.notifier.ingest import webhook_id
from services.notifier.notices import OPS, Notice
from services.notifier.ports import Notices
from services.notifier.secret_box import SecretBox
from services.notifier.settings import NotifierSettings
from services.notifier.signing import new_secret
from shared.domain.errors import Conflict, InvalidRequest, NotFound

ENABLED, DISABLED = "enabled", "disabled"


@dataclass(frozen=True)
class NewSubscription:
    name: str
    url: str
    filters: Filters
    contact: str | None
    rate_limit_per_s: float | None


def check_url(settings: NotifierSettings, url: str) -> None:
    why = url_rules.refusal(
        url,
        allow_loopback=settings.allow_loopback,
        allowed_cidrs=settings.allowed_private_cidrs,
    )
    if why is not None:
        raise InvalidRequest("url_refused", "url", why)


def public(row: Any) -> dict[str, Any]:
    m = row._mapping
    return {
        "id": str(m["id"]),
        "name": m["name"],
        "url": m["url"],
        "filters": m["filters"],
        "contact": m["contact"],
        "rate_limit_per_s": m["rate_limit_per_s"],
        "state": m["state"],
        "failing_since": m["failing_since"],
        "disabled_at": m["disabled_at"],
        "disabled_reason": m["disabled_reason"],
        "created_at": m["created_at"],
    }


async def create(
    conn: AsyncConnection, box: SecretBox, new: NewSubscription, by: str
) -> tuple[dict[str, Any], str]:
    sid, secret = uuid4(), new_secret()
    await conn.execute(
        tables.subscriptions.insert().values(
            id=sid,
            name=new.name,
            url=new.url,
            filters=new.filters.model_dump(exclude_none=True),
            contact=new.contact,
            rate_limit_per_s=new.rate_limit_per_s,
            state=ENABLED,
            created_by=by,
        )
    )
    await conn.execute(
        tables.subscription_secrets.insert().values(subscription_id=sid, encrypted=box.seal(secret))
    )
    return await get(conn, sid), secret


async def get(conn: AsyncConnection, sid: UUID) -> dict[str, Any]:
    row = (
        await conn.execute(select(tables.subscriptions).where(tables.subscriptions.c.id == sid))
    ).first()
    if row is None or row.state == "deleted":
        raise NotFound("subscription_not_found", "id", "no such subscription")
    return public(row)


async def all_(conn: AsyncConnection) -> list[dict[str, Any]]:
    rows = await conn.execute(
        select(tables.subscriptions)
        .where(tables.subscriptions.c.state != "deleted")
        .order_by(tables.subscriptions.c.created_at)
    )
    return [public(r) for r in rows]


async def delete(conn: AsyncConnection, sid: UUID) -> None:
    await get(conn, sid)
    await conn.execute(
        update(tables.subscriptions).where(tables.subscriptions.c.id == sid).values(state="deleted")
    )
    await conn.execute(
        text(
            "UPDATE deliveries SET state = 'cancelled' WHERE subscription_id = :s"
            " AND state = 'pending'"
        ),
        {"s": sid},
    )


async def rotate(
    conn: AsyncConnection, box: SecretBox, sid: UUID, overlap: timedelta
) -> tuple[str, datetime]:
    """A new secret signs from now; the ones before it keep signing until `overlap` ends."""
    await get(conn, sid)
    ends = datetime.now(UTC) + overlap
    s = tables.subscription_secrets
    await conn.execute(
        update(s)
        .where(s.c.subscription_id == sid, (s.c.expires_at.is_(None)) | (s.c.expires_at > ends))
        .values(expires_at=ends)
    )
    secret = new_secret()
    await conn.execute(s.insert().values(subscription_id=sid, encrypted=box.seal(secret)))
    return secret, ends


async def signing_secrets(conn: AsyncConnection, box: SecretBox, sid: UUID) -> list[str]:
    s = tables.subscription_secrets
    rows = await conn.execute(
        select(s.c.encrypted)
        .where(s.c.subscription_id == sid)
        .where((s.c.expires_at.is_(None)) | (s.c.expires_at > datetime.now(UTC)))
        .order_by(s.c.id.desc())
    )
    return [box.open(r.encrypted) for r in rows]


async def enable(conn: AsyncConnection, sid: UUID) -> dict[str, Any]:
    await get(conn, sid)
    await conn.execute(
        update(tables.subscriptions)
        .where(tables.subscriptions.c.id == sid)
        .values(state=ENABLED, failing_since=None, disabled_at=None, disabled_reason=None)
    )
    return await get(conn, sid)


async def recover(
    conn: AsyncConnection, sid: UUID, since_position: int | None, since_time: datetime | None
) -> int:
    sub = await get(conn, sid)
    if sub["state"] != ENABLED:
        raise Conflict("subscription_disabled", "id", "enable the subscription before recovering")
    filters = Filters.model_validate(sub["filters"])
    return await delivery_queue.recover(
        conn,
        sid,
        lambda facets, subject: passes(filters, facets, subject),
        since_position=since_position,
        since_time=since_time,
        webhook_id_of=webhook_id,
    )


async def note_outcome(
    conn: AsyncConnection,
    notices: Notices,
    sid: UUID,
    ok: bool,
    disable_after: timedelta,
    reason: str = "",
) -> bool:
    """Track an endpoint's failing streak; disable it (and tell ops and its contact)
    when it has failed without a success for `disable_after`. True when disabled now."""
    t = tables.subscriptions
    if ok:
        await conn.execute(
            update(t)
            .where(t.c.id == sid, t.c.failing_since.is_not(None))
            .values(failing_since=None)
        )
        return False
    now = datetime.now(UTC)
    row = (await conn.execute(select(t).where(t.c.id == sid).with_for_update())).first()
    if row is None or row.state != ENABLED:
        return False
    if row.failing_since is None:
        await conn.execute(update(t).where(t.c.id == sid).values(failing_since=now))
        return False
    if now - row.failing_since < disable_after:
        return False
    why = f"failing since {row.failing_since.isoformat()}: {reason}"[:300]
    await conn.execute(
        update(t).where(t.c.id == sid).values(state=DISABLED, disabled_at=now, disabled_reason=why)
    )
    zh, en = notice_texts.endpoint_disabled(row.name, row.url, why)
    details = {"subscription_id": str(sid), "url": row.url, "reason": why}
    told = [
        Notice(
            f"endpoint_disabled:{sid}:{now.isoformat()}",
            "endpoint_disabled",
            OPS,
            OPS,
            zh,
            en,
            details=details,
        )
    ]
    if row.contact:
        told.append(
            Notice(
                f"endpoint_disabled:{sid}:{now.isoformat()}:contact",
                "endpoint_disabled",
                "department",
                row.contact,
                zh,
                en,
                department=row.contact,
                details=details,
            )
        )
    await notices.tell(told)
    return True
