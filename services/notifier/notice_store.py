"""The default notice channel: notices stored in Postgres (served by `GET
/v1/notices`), the `Notices` port (ports.py) on one transaction. A department sees
the notices addressed to it or about its own work (`department`), ops and auditors
see all."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.notifier import tables
from services.notifier.notices import Notice
from services.notifier.ports import NoticeQuery

_TELL = (
    pg_insert(tables.notices)
    .on_conflict_do_nothing(index_elements=["dedup_key"])
    .returning(tables.notices.c.id)
)
"""Constant, executed with the rows (compiled once; a `.values(rows)` per call was
compiled again each time)."""


class PostgresNotices:
    channel = "stored"

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def tell(self, notices: Sequence[Notice]) -> int:
        if not notices:
            return 0
        rows = [{**asdict(n), "details": dict(n.details), "channel": self.channel} for n in notices]
        return len((await self.conn.execute(_TELL, rows)).all())

    async def find(self, query: NoticeQuery) -> list[dict[str, Any]]:
        n = tables.notices
        q = select(n).where(n.c.id > query.after).order_by(n.c.id).limit(query.limit)
        for who in (query.visible_to, query.department):
            if who is not None:
                q = q.where(or_(n.c.recipient == who, n.c.department == who))
        if query.subject_id is not None:
            q = q.where(n.c.subject_id == query.subject_id)
        if query.kind is not None:
            q = q.where(n.c.kind == query.kind)
        return [dict(r._mapping) for r in await self.conn.execute(q)]
