"""Finding a subject by any of its identifiers (USCC, resident id, passport, old
organisation code or registration number, or the organisation code inside a USCC).

Read from `subject_lookup`, which ingest writes with the events (lookup_store.py: a
subject is found as soon as its designation is ingested, not when the projector
gets to it), together with the projection `subject_identifiers`."""

from __future__ import annotations

from sqlalchemy import select, union
from sqlalchemy.ext.asyncio import AsyncConnection

from services.ledger import tables
from services.ledger.read_models.rows import normalise_identifier
from shared.domain.errors import Conflict, InvalidRequest
from shared.domain.identifiers import IdentifierError, parse_identifier


async def resolve_subject(conn: AsyncConnection, raw: str) -> str:
    """The subject id `raw` names. An identifier the ledger has never seen is answered
    as its own canonical form (a subject with no events: nothing in force); one that is
    no valid identifier at all is refused (InvalidRequest naming `subject_id`)."""
    key = normalise_identifier(raw)
    keys = {key, raw}
    t, fresh = tables.subject_identifiers, tables.subject_lookup
    rows = await conn.execute(
        union(
            select(t.c.subject_id).where(t.c.identifier.in_(keys)),
            select(fresh.c.subject_id).where(fresh.c.identifier.in_(keys)),
        )
    )
    found: list[str] = sorted({str(s) for s in rows.scalars()})
    if len(found) == 1:
        return found[0]
    if found:
        if key in found:
            return key
        raise Conflict(
            "ambiguous_identifier",
            "subject_id",
            f"the identifier names {len(found)} subjects: ask by their own ids",
            reason="names several subjects",
        )
    try:
        return parse_identifier(raw).value
    except IdentifierError as exc:
        raise InvalidRequest(
            "invalid_identifier",
            "subject_id",
            "subject_id is not a valid identifier",
            reason=exc.reason,
            reason_code=exc.code,
        ) from None
