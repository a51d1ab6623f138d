"""Subject locks: one command (or one chunk of a batch) at a time per subject stream.

Why: two commands on one subject must not both decide from the same state (two
objections both "first", a repair racing a revocation). A transaction-scoped advisory
lock per subject serialises them; the unique (subject, version) constraint on the
stream stays as the safety net.

Why a global order: a transaction may lock several subjects (an organisation and its
related persons; a chunk of a batch, up to a thousand subjects). Two transactions
that take the same locks in different orders can deadlock. Every transaction takes
its locks in one order: organisations before persons, then by id. A single command
locks its own subject first and, after deciding, the related persons its events
reach: persons never reach organisations, so that is the same order. A batch chunk
locks all its subjects at once in that order.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.domain.identifiers import IdentifierError, parse_identifier
from shared.domain.vocabulary import SubjectKind

_SEED = 7  # keeps subject locks apart from the Idempotency-Key locks (seed 0)


def lock_order(subject_id: str) -> tuple[int, str]:
    try:
        kind = parse_identifier(subject_id).subject_kind
    except IdentifierError:
        return (2, subject_id)
    return (0 if kind is SubjectKind.ORGANIZATION else 1, subject_id)


def ordered(subject_ids: Iterable[str]) -> list[str]:
    return sorted(set(subject_ids), key=lock_order)


async def lock_subjects(conn: AsyncConnection, subject_ids: Iterable[str]) -> None:
    """Lock the subjects' streams until the transaction ends, in the global order.

    One statement for many locks: `unnest` yields the array in order and the
    aggregate consumes the rows in that order, so the locks are taken one by one
    in the order given."""
    keys = ["subject:" + s for s in ordered(subject_ids)]
    if not keys:
        return
    await conn.execute(
        text(
            "SELECT count(pg_advisory_xact_lock(hashtextextended(k, :seed)))"
            " FROM unnest(CAST(:keys AS text[])) AS k"
        ),
        {"keys": keys, "seed": _SEED},
    )
