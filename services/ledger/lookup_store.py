"""The lookups ingest writes beside the events (the `Lookups` port, ports.py, on
Postgres): identifier → subject (`subject_lookup`) and designation → subject
(`designation_lookup`).

Why in the ingest transaction and not with the other projections: the projector
refreshes a subject a moment after its events are appended (projector.py). Until
then the projection rows do not know a new designation, and a read that first
finds the subject by identifier or by designation id would answer "no such subject"
— a person just put under a flight ban, looked up by passport, would read
`restricted: false` even though the status folded from the events says otherwise.
These pairs come straight from the designation events, are never removed (an issued
designation stays in the fold, and its identifiers cannot be amended), and cost one
insert per new designation, so ingest writes them at once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.ledger.ports import LookupEntry
from services.ledger.read_models.rows import SubjectProjection, keys_of
from services.ledger.store import StoredEvent
from shared.domain.lifecycle_events import DesignationIssued

_DESIGNATIONS = text(
    "INSERT INTO designation_lookup (designation_id, subject_id)"
    " SELECT d, s FROM unnest(CAST(:d AS UUID[]), CAST(:s AS TEXT[])) AS x(d, s)"
    " ON CONFLICT DO NOTHING RETURNING designation_id, subject_id"
)
_IDENTIFIERS = text(
    "INSERT INTO subject_lookup (identifier, subject_id)"
    " SELECT i, s FROM unnest(CAST(:i AS TEXT[]), CAST(:s AS TEXT[])) AS x(i, s)"
    " ON CONFLICT DO NOTHING"
)


def lookup_entries(appended: Sequence[StoredEvent]) -> list[LookupEntry]:
    """The entries of the designations issued among `appended`, the first of each
    (designation, subject) only (pure)."""
    out: dict[tuple[UUID, str], LookupEntry] = {}
    for event in appended:
        if event.type != DesignationIssued.TYPE:
            continue
        data: dict[str, Any] = event.payload.get("data", {})
        key = (UUID(str(data["designation_id"])), event.stream)
        if key not in out:
            raws = [event.stream, str(data["subject_id"]), *map(str, data.get("identifiers", ()))]
            out[key] = LookupEntry(key[0], event.stream, tuple(keys_of(raws)))
    return list(out.values())


class PostgresLookups:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, entries: Sequence[LookupEntry]) -> None:
        if not entries:
            return
        found = await self._conn.execute(
            _DESIGNATIONS,
            {"d": [e.designation_id for e in entries], "s": [e.subject_id for e in entries]},
        )
        new = {(r.designation_id, r.subject_id) for r in found}
        pairs = sorted(
            {
                (k, e.subject_id)
                for e in entries
                if (e.designation_id, e.subject_id) in new
                for k in e.keys
            }
        )
        if pairs:
            await self._conn.execute(
                _IDENTIFIERS, {"i": [k for k, _ in pairs], "s": [s for _, s in pairs]}
            )


async def fill(conn: AsyncConnection, projections: Sequence[SubjectProjection]) -> None:
    """The lookups of `projections` (a rebuild: from their identifier and designation
    rows)."""
    designations = [
        (r["designation_id"], p.subject_id) for p in projections for r in p.designations
    ]
    identifiers = [(r["identifier"], p.subject_id) for p in projections for r in p.identifiers]
    if designations:
        await conn.execute(
            _DESIGNATIONS,
            {"d": [d for d, _ in designations], "s": [s for _, s in designations]},
        )
    if identifiers:
        await conn.execute(
            _IDENTIFIERS, {"i": [i for i, _ in identifiers], "s": [s for _, s in identifiers]}
        )
