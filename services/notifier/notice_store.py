"""Notices in Postgres: the default channel (stored, served over HTTP) and the reads
behind `GET /v1/notices` with their visibility rule: a department sees the notices
addressed to it or about its own work, ops and auditors see all."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.notifier import tables
from services.notifier.notices import Notice


class StoredChannel:
    name = "stored"

    async def send(self, conn: AsyncConnection, notices: Sequence[Notice]) -> int:
        if not notices:
            return 0
        rows = [{**asdict(n), "details": dict(n.details), "channel": self.name} for n in notices]
        result = await conn.execute(
            pg_insert(tables.notices)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["dedup_key"])
            .returning(tables.notices.c.id)
        )
        return len(result.all())


async def find(
    conn: AsyncConnection,
    *,
    department: str | None,
    subject_id: str | None,
    kind: str | None,
    after: int,
    limit: int,
    visible_to: str | None,
) -> list[dict[str, Any]]:
    """`visible_to`: a department code (its own only), None for ops and auditors."""
    n = tables.notices
    query = select(n).where(n.c.id > after).order_by(n.c.id).limit(limit)
    if visible_to is not None:
        query = query.where(or_(n.c.recipient == visible_to, n.c.department == visible_to))
    if department is not None:
        query = query.where(or_(n.c.recipient == department, n.c.department == department))
    if subject_id is not None:
        query = query.where(n.c.subject_id == subject_id)
    if kind is not None:
        query = query.where(n.c.kind == kind)
    return [dict(r._mapping) for r in await conn.execute(query)]
