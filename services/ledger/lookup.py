"""Finding a subject by any of its identifiers (USCC, resident id, passport, old
organisation code or registration number, or the organisation code inside a USCC).

Read from `subject_lookup`, which ingest writes with the events (lookup_store.py: a
subject is found as soon as its designation is ingested, not when the projector
gets to it), together with the projection `subject_identifiers`."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import CompoundSelect, select, union
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
    rows = await conn.execute(_named(key, raw))
    return _chosen(raw, key, {str(s): None for s in rows.scalars()})


async def resolve_subject_head(conn: AsyncConnection, raw: str) -> tuple[str, int | None]:
    """`resolve_subject`, and in the same statement the stream version the subject's
    status row was last projected at (None: no row — not projected yet, or no events).
    Why: a status read of a stream shorter than the snapshot interval then knows,
    without asking the snapshot store, that no stored snapshot can serve it
    (snapshots.state_at); the projector stores one only after the round that projected
    past it committed, so the row's version is never below a stored snapshot's."""
    key = normalise_identifier(raw)
    named = _named(key, raw).subquery()
    status = tables.subject_status
    rows = await conn.execute(
        select(named.c.subject_id, status.c.stream_version).outerjoin(
            status, status.c.subject_id == named.c.subject_id
        )
    )
    heads: dict[str, int | None] = {str(s): v for s, v in rows}
    subject = _chosen(raw, key, heads)
    return subject, heads.get(subject)


def _named(key: str, raw: str) -> CompoundSelect[tuple[str]]:
    """The subject ids that `key` or `raw` name, in the projection and in the lookup
    ingest writes."""
    keys = {key, raw}
    t, fresh = tables.subject_identifiers, tables.subject_lookup
    return union(
        select(t.c.subject_id).where(t.c.identifier.in_(keys)),
        select(fresh.c.subject_id).where(fresh.c.identifier.in_(keys)),
    )


def _chosen(raw: str, key: str, named: Mapping[str, object]) -> str:
    found = sorted(named)
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
