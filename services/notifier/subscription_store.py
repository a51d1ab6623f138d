"""The `SubscriptionStore` port (ports.py) in Postgres, on one transaction's
connection: `subscriptions` and `subscription_secrets` (sealed)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.notifier import tables
from services.notifier.ports import DELETED, DISABLED, ENABLED, NewSubscription, Subscription

_t = tables.subscriptions
_s = tables.subscription_secrets


def _subscription(row: Any) -> Subscription:
    m = row._mapping
    return Subscription(**{f: m[f] for f in Subscription.__dataclass_fields__})


class PostgresSubscriptions:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def create(
        self, sid: UUID, new: NewSubscription, by: str, sealed_secret: str
    ) -> Subscription:
        await self.conn.execute(
            _t.insert().values(
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
        await self.conn.execute(_s.insert().values(subscription_id=sid, encrypted=sealed_secret))
        created = await self.get(sid)
        assert created is not None
        return created

    async def get(self, sid: UUID, *, lock: bool = False) -> Subscription | None:
        query = select(_t).where(_t.c.id == sid)
        row = (await self.conn.execute(query.with_for_update() if lock else query)).first()
        return None if row is None else _subscription(row)

    async def listed(self, *, lock: bool = False) -> list[Subscription]:
        query = select(_t).where(_t.c.state != DELETED).order_by(_t.c.created_at)
        rows = await self.conn.execute(query.with_for_update(read=True) if lock else query)
        return [_subscription(r) for r in rows]

    async def enabled(self) -> list[Subscription]:
        rows = await self.conn.execute(select(_t).where(_t.c.state == ENABLED))
        return [_subscription(r) for r in rows]

    async def delete(self, sid: UUID) -> None:
        await self.conn.execute(update(_t).where(_t.c.id == sid).values(state=DELETED))

    async def enable(self, sid: UUID) -> None:
        await self.conn.execute(
            update(_t)
            .where(_t.c.id == sid)
            .values(state=ENABLED, failing_since=None, disabled_at=None, disabled_reason=None)
        )

    async def disable(self, sid: UUID, at: datetime, reason: str) -> None:
        await self.conn.execute(
            update(_t)
            .where(_t.c.id == sid)
            .values(state=DISABLED, disabled_at=at, disabled_reason=reason)
        )

    async def set_failing_since(self, sid: UUID, since: datetime | None) -> None:
        stmt = update(_t).where(_t.c.id == sid)
        if since is None:  # only a streak that runs is written
            stmt = stmt.where(_t.c.failing_since.is_not(None))
        await self.conn.execute(stmt.values(failing_since=since))

    async def rotate_secret(self, sid: UUID, sealed_secret: str, old_valid_until: datetime) -> None:
        await self.conn.execute(
            update(_s)
            .where(
                _s.c.subscription_id == sid,
                (_s.c.expires_at.is_(None)) | (_s.c.expires_at > old_valid_until),
            )
            .values(expires_at=old_valid_until)
        )
        await self.conn.execute(_s.insert().values(subscription_id=sid, encrypted=sealed_secret))

    async def secrets(self, sid: UUID, at: datetime) -> list[str]:
        rows = await self.conn.execute(
            select(_s.c.encrypted)
            .where(_s.c.subscription_id == sid)
            .where((_s.c.expires_at.is_(None)) | (_s.c.expires_at > at))
            .order_by(_s.c.id.desc())
        )
        return [r.encrypted for r in rows]
