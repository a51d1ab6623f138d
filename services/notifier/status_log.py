"""The `StatusLog` port (ports.py) in Postgres: `status_log`, positions from an
identity column, the message id unique (a re-published message is dropped). Ingest
takes its append turns on an advisory lock (ingest.py says why)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.notifier import tables


class PostgresStatusLog:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def append(
        self, message_id: UUID, subject_id: str, facets: Mapping[str, Any], body: str
    ) -> int | None:
        position: int | None = await self.conn.scalar(
            pg_insert(tables.status_log)
            .values(message_id=message_id, subject_id=subject_id, facets=dict(facets), body=body)
            .on_conflict_do_nothing(index_elements=["message_id"])
            .returning(tables.status_log.c.position)
        )
        return position
