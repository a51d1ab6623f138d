"""The `SubjectViews` port (ports.py) in Postgres: `subject_latest`, `watch`,
`interceptions`, written by ingest in its batch's transaction, read by the reminder
loop and the monthly report.

Each write is one constant statement executed with the batch's rows (asyncpg's
executemany: prepared once per connection), so SQLAlchemy compiles it once; a
multi-row `.values(rows)` differs with every batch's length and was compiled again
each time. The statuses (~25 kB each for a court debtor) cross as text, encoded and
decoded by orjson: the standard library's json was the next largest share of the
ingest's CPU once the compiling had gone (docs/benchmarks.md, "Notifier ingest")."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import date
from typing import Any

import orjson
from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.notifier import tables
from services.notifier.notices import WatchItem
from services.notifier.ports import Latest

_watch = tables.watch
_counts = tables.interceptions

_LATEST = text(
    "SELECT subject_id, CAST(status AS text) FROM subject_latest"
    " WHERE subject_id = ANY(CAST(:subjects AS text[]))"
)
# changes.basis(status) in SQL (the contract suite holds them equal): a few hundred
# bytes a designation cross and are parsed, instead of the whole ~25 kB status —
# parsing those was 13 % of ingest's CPU at 50 debtors (docs/benchmarks.md).
_BASES = text(
    "SELECT subject_id, CAST(("
    " SELECT COALESCE(jsonb_object_agg(d->>'designation_id', jsonb_build_object("
    "  'state', d->'state',"
    "  'amendments', COALESCE(jsonb_array_length(d->'amendments'), 0),"
    "  'repairs', COALESCE(jsonb_array_length(d->'repairs'), 0),"
    "  'objections', (SELECT COALESCE(jsonb_object_agg(o->>'objection_id', o->'status'),"
    "   '{}') FROM jsonb_array_elements(COALESCE(d->'objections', '[]')) o),"
    "  'tasks', (SELECT COALESCE(jsonb_object_agg("
    "   (t->>'measure') || '|' || (t->>'department'), jsonb_build_array("
    "    COALESCE(jsonb_array_length(t->'feedback'), 0),"
    "    COALESCE(CAST(t->>'interceptions' AS bigint), 0))),"
    "   '{}') FROM jsonb_array_elements(COALESCE(d->'tasks', '[]')) t)"
    " )), '{}') FROM jsonb_array_elements(COALESCE(status->'designations', '[]')) d"
    ") AS text) FROM subject_latest WHERE subject_id = ANY(CAST(:subjects AS text[]))"
)
# One statement, one round trip: the latest statuses and the watched deadlines. The
# batch's rows go as one array per column (an executemany of dicts went through
# SQLAlchemy's parameter processing row by row — ~8 % of ingest's CPU for the ~48
# deadlines a court debtor keeps watched). A status ingest has just logged is read by
# Postgres from its log row (the received message's `data`): neither serialised again
# here nor sent a second time (~24 kB a court debtor).
# The deadlines are diffed against what is kept, as sets, in SQL: a subject's rows no
# longer named are deleted, new or changed ones upserted, unchanged ones left alone
# (they were deleted and inserted again with every status: a heap tuple, two index
# entries and their WAL each). `named` is each key's first naming (the port's "kept
# once"); a key kept for a subject outside the batch stays as it is (the old
# DELETE-then-INSERT … DO NOTHING did the same), one of a batch's subjects is taken
# over as the old DELETE-then-INSERT did. `kept` and `gone` run whether read or not.
_KEEP = text(
    "WITH kept AS ("
    " INSERT INTO subject_latest (subject_id, position, status)"
    " SELECT u.s, u.p, COALESCE(CAST(u.j AS jsonb), CAST(l.body AS jsonb)->'data') FROM unnest("
    "CAST(:s AS text[]), CAST(:p AS bigint[]), CAST(:j AS text[])) AS u(s, p, j)"
    " LEFT JOIN status_log l ON u.j IS NULL AND l.position = u.p"
    " ON CONFLICT (subject_id) DO UPDATE"
    " SET position = excluded.position, status = excluded.status"
    " RETURNING 1),"
    " named AS (SELECT DISTINCT ON (key) key, kind, subject_id, designation_id, department,"
    " measure, deadline FROM unnest(CAST(:k AS text[]), CAST(:kind AS text[]),"
    " CAST(:ws AS text[]), CAST(:d AS text[]), CAST(:dep AS text[]), CAST(:m AS text[]),"
    " CAST(:dl AS date[])) WITH ORDINALITY"
    " AS n(key, kind, subject_id, designation_id, department, measure, deadline, i)"
    " ORDER BY key, i),"
    " gone AS (DELETE FROM watch w WHERE w.subject_id = ANY(CAST(:s AS text[]))"
    " AND NOT EXISTS (SELECT 1 FROM named n WHERE n.key = w.key))"
    " INSERT INTO watch (key, kind, subject_id, designation_id, department, measure, deadline)"
    " SELECT n.key, n.kind, n.subject_id, n.designation_id, n.department, n.measure, n.deadline"
    " FROM named n WHERE NOT EXISTS (SELECT 1 FROM watch w WHERE w.key = n.key"
    " AND (w.kind, w.subject_id, w.designation_id, w.department, w.measure, w.deadline)"
    " IS NOT DISTINCT FROM (n.kind, n.subject_id, n.designation_id, n.department, n.measure,"
    " n.deadline))"
    " ON CONFLICT (key) DO UPDATE SET kind = excluded.kind, subject_id = excluded.subject_id,"
    " designation_id = excluded.designation_id, department = excluded.department,"
    " measure = excluded.measure, deadline = excluded.deadline"
    " WHERE watch.subject_id = ANY(CAST(:s AS text[]))"
)
_STATUSES = text("SELECT CAST(status AS text) FROM subject_latest")
_add = pg_insert(_counts)
_COUNT = _add.on_conflict_do_update(
    index_elements=["month", "measure"], set_={"count": _counts.c.count + _add.excluded.count}
)


class PostgresSubjectViews:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def latest(self, subjects: Collection[str]) -> dict[str, Mapping[str, Any]]:
        if not subjects:
            return {}
        rows = await self.conn.execute(_LATEST, {"subjects": list(subjects)})
        return {subject: orjson.loads(status) for subject, status in rows}

    async def bases(self, subjects: Collection[str]) -> dict[str, Mapping[str, Any]]:
        if not subjects:
            return {}
        rows = await self.conn.execute(_BASES, {"subjects": list(subjects)})
        return {subject: orjson.loads(b) for subject, b in rows}

    async def keep(self, latest: Mapping[str, Latest], watched: Sequence[WatchItem]) -> None:
        if not latest:
            return
        kept = list(latest.values())
        await self.conn.execute(
            _KEEP,
            {
                "s": list(latest),
                "p": [k.position for k in kept],
                "j": [None if k.logged else orjson.dumps(k.status).decode() for k in kept],
                "k": [i.key for i in watched],
                "kind": [i.kind for i in watched],
                "ws": [i.subject_id for i in watched],
                "d": [i.designation_id for i in watched],
                "dep": [i.department for i in watched],
                "m": [i.measure for i in watched],
                "dl": [i.deadline for i in watched],
            },
        )

    async def count_interceptions(self, counts: Mapping[tuple[str, str], int]) -> None:
        if counts:
            await self.conn.execute(
                _COUNT, [{"month": m, "measure": s, "count": n} for (m, s), n in counts.items()]
            )

    async def watched(self, until: date) -> list[WatchItem]:
        rows = await self.conn.execute(select(_watch).where(_watch.c.deadline <= until))
        return [WatchItem(**r._mapping) for r in rows]

    async def statuses(self) -> list[Mapping[str, Any]]:
        return [orjson.loads(status) for status in await self.conn.scalars(_STATUSES)]

    async def interceptions(self, month: str) -> dict[str, int]:
        rows = await self.conn.execute(
            select(_counts.c.measure, _counts.c.count).where(_counts.c.month == month)
        )
        return {str(measure): int(count) for measure, count in rows}
