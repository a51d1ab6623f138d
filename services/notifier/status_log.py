"""The `StatusLog` port (ports.py) in Postgres: `status_log`, positions from an
identity column, the message id unique (a re-published message is dropped). Ingest
takes its append turns on an advisory lock (ingest.py says why).

A consumed batch is logged with one constant statement (`_APPEND`): the rows go in
as arrays and come out of `unnest … WITH ORDINALITY ORDER BY`, so the identity
column numbers them in the batch's order (PostgreSQL evaluates the column default as
the sorted rows are inserted, the order SQLAlchemy's own "insertmanyvalues" relies
on to correlate rows with their parameters). Why not `insert(table).values(…)` per
status: such a statement was compiled by SQLAlchemy again on every call, ~30 % of the
notifier's CPU under the pipeline's load (docs/benchmarks.md, "Notifier ingest")."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any
from uuid import UUID

import orjson
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.notifier import tables
from services.notifier.ports import LoggedStatus, NewStatus

_APPEND = text(
    "INSERT INTO status_log (message_id, subject_id, facets, body)"
    " SELECT m, s, CAST(f AS jsonb), convert_from(b, 'UTF8') FROM unnest("
    "CAST(:m AS uuid[]), CAST(:s AS text[]), CAST(:f AS text[]), CAST(:b AS bytea[])"
    ") WITH ORDINALITY AS u(m, s, f, b, n) ORDER BY n"
    " ON CONFLICT (message_id) DO NOTHING RETURNING message_id, position"
)
_LOGGED = text("SELECT message_id FROM status_log WHERE message_id = ANY(CAST(:ids AS uuid[]))")
_HEAD = text("SELECT COALESCE(max(position), 0) FROM status_log")
_t = tables.status_log


class PostgresStatusLog:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def append(
        self, message_id: UUID, subject_id: str, facets: Mapping[str, Any], body: str
    ) -> int | None:
        [position] = await self.append_many([NewStatus(message_id, subject_id, facets, body)])
        return position

    async def append_many(self, statuses: Sequence[NewStatus]) -> list[int | None]:
        if not statuses:
            return []
        rows = await self.conn.execute(
            _APPEND,
            {
                "m": [s.message_id for s in statuses],
                "s": [s.subject_id for s in statuses],
                "f": [orjson.dumps(dict(s.facets)).decode() for s in statuses],
                # the bodies as consumed: a str would be encoded to UTF-8 again
                "b": [s.body if isinstance(s.body, bytes) else s.body.encode() for s in statuses],
            },
        )
        positions: dict[UUID, int] = {r.message_id: r.position for r in rows}
        # a message twice in `statuses`: logged once, at its first place
        return [positions.pop(s.message_id, None) for s in statuses]

    async def logged(self, message_ids: Collection[UUID]) -> set[UUID]:
        if not message_ids:
            return set()
        rows = await self.conn.execute(_LOGGED, {"ids": list(message_ids)})
        return {r.message_id for r in rows}

    async def head(self) -> int:
        return int(await self.conn.scalar(_HEAD) or 0)

    async def after(self, position: int, limit: int) -> list[LoggedStatus]:
        rows = await self.conn.execute(
            select(_t.c.position, _t.c.subject_id, _t.c.facets, _t.c.body)
            .where(_t.c.position > position)
            .order_by(_t.c.position)
            .limit(limit)
        )
        return [LoggedStatus(r.position, r.subject_id, r.facets, r.body) for r in rows]
