"""The `DeliveryQueue` port (ports.py) in Postgres: claim what is due, record an
attempt's outcome, retry, recover, cancel.

Order per subject per subscriber: a delivery is claimable only when no delivery of
the same subscription and subject with a lower status-log position is still pending
(in flight, waiting for its retry, or not yet tried); a `held` one (queued while
its subscription was disabled) is never claimed. So a subject's changes reach a
subscriber one at a time, in the order the ledger published them, while other
subjects go ahead. A dead delivery no longer holds the subject back (it is shown in
`GET /v1/deliveries` and can be retried or recovered).

Claiming takes a lease (`lease_until`) with FOR UPDATE SKIP LOCKED: two notifier
instances never send the same delivery at once, and a delivery whose sender died
(SIGKILL mid-request) becomes due again when its lease ends — sent again with the
same `webhook-id`, which is what lets the receiver drop the duplicate.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.notifier import tables
from services.notifier.ports import (
    Claimed,
    Delivery,
    DeliveryQuery,
    NewDelivery,
    Wanted,
    WebhookIdOf,
)

_CLAIM = text(
    """
    WITH due AS (
        SELECT d.id FROM deliveries d
        WHERE d.subscription_id = :sub AND d.state = 'pending'
          AND d.next_attempt_at <= now()
          AND (d.lease_until IS NULL OR d.lease_until < now())
          AND NOT (d.subject_id = ANY(:busy))
          AND NOT EXISTS (
              SELECT 1 FROM deliveries e
              WHERE e.subscription_id = d.subscription_id AND e.subject_id = d.subject_id
                AND e.state = 'pending' AND e.position < d.position)
        ORDER BY d.position
        LIMIT :n
        FOR UPDATE OF d SKIP LOCKED)
    UPDATE deliveries SET lease_until = now() + make_interval(secs => :lease),
                          attempts = deliveries.attempts + 1
    FROM due, status_log s
    WHERE deliveries.id = due.id AND s.position = deliveries.position
    RETURNING deliveries.id, deliveries.subject_id, deliveries.webhook_id,
              deliveries.attempts, deliveries.position, s.body
    """
)


_RECOVER_ONE = text(
    "INSERT INTO deliveries (subscription_id, position, subject_id, webhook_id, state)"
    " VALUES (:sub, :p, :subj, :wid, 'pending')"
    " ON CONFLICT (subscription_id, position) DO UPDATE SET state = 'pending',"
    " attempts = 0, next_attempt_at = now(), lease_until = NULL"
    " WHERE deliveries.state = 'dead'"
)


_ENQUEUE = pg_insert(tables.deliveries).on_conflict_do_nothing()
"""Constant, executed with the rows (asyncpg's executemany; compiled once)."""


def _delivery(row: Any) -> Delivery:
    m = row._mapping
    return Delivery(**{f: m[f] for f in Delivery.__dataclass_fields__})


class PostgresDeliveryQueue:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def enqueue(self, deliveries: Sequence[NewDelivery]) -> None:
        if deliveries:
            # field by field: dataclasses.asdict deep-copies every UUID (6 % of ingest's CPU)
            rows = [
                {
                    "subscription_id": d.subscription_id,
                    "position": d.position,
                    "subject_id": d.subject_id,
                    "webhook_id": d.webhook_id,
                    "state": "held" if d.held else "pending",
                }
                for d in deliveries
            ]
            await self.conn.execute(_ENQUEUE, rows)

    async def claim(
        self, subscription_id: UUID, n: int, busy: Sequence[str], lease_s: float
    ) -> list[Claimed]:
        rows = await self.conn.execute(
            _CLAIM, {"sub": subscription_id, "n": n, "busy": list(busy), "lease": lease_s}
        )
        return sorted((Claimed(**r._mapping) for r in rows), key=lambda c: c.position)

    async def delivered(self, delivery_id: int, status: int) -> None:
        await self.conn.execute(
            text(
                "UPDATE deliveries SET state = 'delivered', delivered_at = now(),"
                " lease_until = NULL, last_status_code = :s, last_error = NULL WHERE id = :id"
            ),
            {"id": delivery_id, "s": status},
        )

    async def failed(
        self,
        delivery_id: int,
        *,
        status: int | None,
        error: str,
        retry_in_s: float | None,
        at: datetime | None = None,
    ) -> None:
        await self.conn.execute(
            text(
                "UPDATE deliveries SET state = CASE WHEN CAST(:retry AS float8) IS NULL"
                " THEN 'dead' ELSE 'pending' END,"
                " next_attempt_at = COALESCE(CAST(:at AS timestamptz), now())"
                " + make_interval(secs => COALESCE(CAST(:retry AS float8), 0)),"
                " lease_until = NULL, last_status_code = :s, last_error = :e WHERE id = :id"
            ),
            {"id": delivery_id, "s": status, "e": error[:500], "retry": retry_in_s, "at": at},
        )

    async def retry(self, delivery_id: int) -> Delivery | None:
        row = await self.conn.execute(
            text(
                "UPDATE deliveries SET state = 'pending', next_attempt_at = now(), attempts = 0,"
                " lease_until = NULL WHERE id = :id RETURNING *"
            ),
            {"id": delivery_id},
        )
        found = row.first()
        return None if found is None else _delivery(found)

    async def recover(
        self,
        subscription_id: UUID,
        wanted: Wanted,
        webhook_id_of: WebhookIdOf,
        *,
        since_position: int | None,
        since_time: datetime | None,
    ) -> int:
        where = "position > :p" if since_position is not None else "received_at >= :t"
        rows = await self.conn.execute(
            text(
                f"SELECT position, message_id, subject_id, facets FROM status_log WHERE {where}"  # noqa: S608
                " ORDER BY position"
            ),
            {"p": since_position, "t": since_time},
        )
        count = 0
        for r in rows:
            if not wanted(r.facets, r.subject_id):
                continue
            result = await self.conn.execute(
                _RECOVER_ONE,
                {
                    "sub": subscription_id,
                    "p": r.position,
                    "subj": r.subject_id,
                    "wid": webhook_id_of(subscription_id, r.message_id),
                },
            )
            count += result.rowcount
        return count

    async def release(self, subscription_id: UUID, died_since: datetime | None) -> int:
        result = await self.conn.execute(
            text(
                "UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = now(),"
                " lease_until = NULL WHERE subscription_id = :s AND (state = 'held'"
                " OR (state = 'dead' AND next_attempt_at >= CAST(:died AS timestamptz)))"
            ),
            {"s": subscription_id, "died": died_since},
        )
        return int(result.rowcount)

    async def cancel_pending(self, subscription_id: UUID) -> None:
        await self.conn.execute(
            text(
                "UPDATE deliveries SET state = 'cancelled' WHERE subscription_id = :s"
                " AND state IN ('pending', 'held')"
            ),
            {"s": subscription_id},
        )

    async def find(self, query: DeliveryQuery) -> list[Delivery]:
        d = tables.deliveries
        stmt = select(d).where(d.c.id > query.after).order_by(d.c.id).limit(query.limit)
        if query.subscription_id is not None:
            stmt = stmt.where(d.c.subscription_id == query.subscription_id)
        if query.state is not None:
            stmt = stmt.where(d.c.state == query.state)
        if query.subject_id is not None:
            stmt = stmt.where(d.c.subject_id == query.subject_id)
        return [_delivery(r) for r in await self.conn.execute(stmt)]
