"""Command handlers: lock the subject, fold its stream, decide, append, outbox.

Why the advisory lock: two commands on one subject must not both decide from the
same state (two objections both "first", a repair racing a revocation). Locking
the subject's stream for the transaction serialises them; the unique
(subject, version) constraint stays as the safety net.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.initiator import repository
from shared.domain.commands import AnyCommand
from shared.domain.decide import decide
from shared.domain.decide_support import CatalogueLookup, NewEvent
from shared.domain.envelope import Envelope
from shared.domain.fold import fold
from shared.domain.rejections import Rejected
from shared.web.problems import FieldError, ProblemError


@dataclass(frozen=True)
class Context:
    catalogue: CatalogueLookup
    topic_suffix: str = ""
    correlationid: str | None = None


def rejection_problem(rejected: Rejected) -> ProblemError:
    errors = [FieldError(r.field, r.code.value, r.message) for r in rejected.rejections]
    return ProblemError(
        status=rejected.http_status,
        code=rejected.rejections[0].code.value,
        detail="; ".join(r.message for r in rejected.rejections),
        errors=errors,
    )


async def lock_subject(conn: AsyncConnection, subject_id: str) -> None:
    await conn.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:s, 7))"),
        {"s": "subject:" + subject_id},
    )


async def execute(
    conn: AsyncConnection, subject_id: str, command: AnyCommand, ctx: Context
) -> list[Envelope]:
    """Decide `command` against the subject's stream; publish what it yields (same tx)."""
    await lock_subject(conn, subject_id)
    recorded, version = await repository.load(conn, subject_id)
    outcome = decide(fold(recorded, subject_id), command, ctx.catalogue)
    if isinstance(outcome, Rejected):
        raise rejection_problem(outcome)
    envelopes = envelopes_of(outcome, command.department, ctx.correlationid)
    await repository.append(conn, envelopes, {subject_id: version})
    await repository.publish(conn, envelopes, ctx.topic_suffix)
    return envelopes


def envelopes_of(
    events: Sequence[NewEvent], department: str, correlationid: str | None
) -> list[Envelope]:
    first = None
    out: list[Envelope] = []
    for event in events:
        env = event.envelope(
            source=f"/initiator/{department}",
            correlationid=correlationid or (str(first.id) if first else None),
            causationid=str(first.id) if first else None,
        )
        first = first or env
        out.append(env)
    return out
