"""Writing refreshed projections: a subject's rows are replaced, except the rows
already stored for it that did not change, when the stored rows are known exactly.

Why: one feedback event changes one task of a designation's 49, yet replacing all of
a subject's rows deleted and inserted (indexed, WAL-logged) all 49 task rows on every
refresh — the largest part of the writes measured on a court list. The status and
designation rows change with every event anyway (the status is rendered at the
change; in-force windows start there): they are always replaced.

Why the stored rows can be known without reading them back: projection rows are a
pure function of the subject's events up to its head (rows.py), all of a
subject's rows are written together, and `subject_status.head_position` names the
head they were computed for. So when that column still holds position P, the stored
rows are exactly the rows computed for head P — by this ingest, another instance or a
rebuild alike. A position is never reused: a batch that rolled back leaves one that no
row names. The fold cache keeps a snapshot of the rows written for its head
(`Written`); it is trusted only after the stored head position is checked (one query
per batch), otherwise the subject's rows are replaced as a whole.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from operator import itemgetter
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.ledger import tables
from services.ledger.read_models.bulk_sql import (
    JsonText,
    Part,
    delete_keys,
    delete_subjects,
    insert_rows,
    insert_rows_with_parts,
)
from services.ledger.read_models.rows import Row, SubjectProjection

REPLACED: tuple[Table, ...] = (tables.subject_status, tables.designations)
"""Always replaced as a whole."""
DIFFED: tuple[Table, ...] = (tables.subject_identifiers, tables.tasks, tables.public_entries)
"""Only what changed is written, when the stored rows are known."""

Key = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Written:
    """The rows of the DIFFED tables written for one subject at head `position`."""

    position: int
    rows: Mapping[str, Sequence[Row]]
    """Table name → the rows (the projection's own row dicts: keeping them allocates
    nothing, and nothing new for the garbage collector to trace)."""


def rows_of(projection: SubjectProjection, table: Table) -> list[Row]:
    if table is tables.subject_status:
        return [projection.status_row]
    if table is tables.subject_identifiers:
        return projection.identifiers
    if table is tables.designations:
        return projection.designations
    if table is tables.tasks:
        return projection.tasks
    if table is tables.public_entries:
        return projection.public_entries
    raise ValueError(f"{table.name} is no projection table")


def snapshot(projection: SubjectProjection) -> Written:
    return Written(projection.head.position, {t.name: rows_of(projection, t) for t in DIFFED})


VIEWS = Part(column="view", join="subject_id", source="status", key="designations")
"""A designation row's `view` is its entry in the subject's status document: the
server takes it from the status it has just parsed instead of parsing it again (the
rows are built that way: rows.project_state)."""


async def insert_all(conn: AsyncConnection, projections: Sequence[SubjectProjection]) -> None:
    """Insert every row of `projections` (their subjects have no rows): one statement
    per table."""
    await _insert_replaced(conn, projections)
    for table in DIFFED:
        await insert_rows(conn, table, [r for p in projections for r in rows_of(p, table)])


async def _insert_replaced(conn: AsyncConnection, projections: Sequence[SubjectProjection]) -> None:
    await insert_rows_with_parts(
        conn,
        tables.subject_status,
        [{**p.status_row, "status": JsonText(p.status_json.decode())} for p in projections],
        tables.designations,
        [(row, n) for p in projections for n, row in enumerate(p.designations)],
        VIEWS,
    )


async def write(
    conn: AsyncConnection,
    projections: Sequence[SubjectProjection],
    previous: Mapping[str, Written],
    subjects: Sequence[str] = (),
) -> dict[str, Written]:
    """Make the stored rows of `projections` (and of `subjects`, which may have none
    any more) what they say, in the caller's transaction. `previous`: snapshots of
    what may be stored, trusted after the check above. Returns the new snapshots."""
    known = await _still_stored(conn, previous)
    everyone = list(dict.fromkeys([*subjects, *(p.subject_id for p in projections)]))
    await delete_subjects(conn, REPLACED, everyone)
    await delete_subjects(conn, DIFFED, [s for s in everyone if s not in known])
    await _insert_replaced(conn, projections)
    snapshots = {p.subject_id: snapshot(p) for p in projections}
    for table in DIFFED:
        gone: list[Key] = []
        come: list[Row] = []
        for p in projections:
            old = known.get(p.subject_id)
            if old is None:
                come.extend(rows_of(p, table))
                continue
            before = _keyed(table, old.rows[table.name])
            after = _keyed(table, rows_of(p, table))
            gone.extend(k for k, row in before.items() if after.get(k) != row)
            come.extend(row for k, row in after.items() if before.get(k) != row)
        await delete_keys(conn, table, gone)
        await insert_rows(conn, table, come)
    return snapshots


async def _still_stored(
    conn: AsyncConnection, previous: Mapping[str, Written]
) -> dict[str, Written]:
    """The snapshots whose head is still the one `subject_status` names."""
    if not previous:
        return {}
    s = tables.subject_status
    rows = await conn.execute(
        select(s.c.subject_id, s.c.head_position).where(s.c.subject_id.in_(list(previous)))
    )
    heads = {r.subject_id: r.head_position for r in rows}
    return {k: w for k, w in previous.items() if heads.get(k) == w.position}


def _keyed(table: Table, rows: Sequence[Row]) -> dict[Key, Row]:
    key = _key(table)
    return {key(r): r for r in rows}


@cache
def _key(table: Table) -> Callable[[Row], Key]:
    """A row's primary key as a tuple (itemgetter: in C)."""
    get = itemgetter(*(c.name for c in table.primary_key.columns))
    return get if len(table.primary_key.columns) > 1 else lambda row: (get(row),)
