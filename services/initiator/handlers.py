"""Command handlers: lock the subject, fold its stream, decide, append, outbox, timers
— one transaction (the caller's). Every command goes through `execute`: HTTP
routes and due timers alike. Lock order: see services/initiator/locks.py."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from services.initiator import locks, repository, timers
from services.initiator.repository import Staged, Stream
from shared.domain.commands import AnyCommand
from shared.domain.decide import decide
from shared.domain.decide_support import CatalogueLookup, NewEvent
from shared.domain.envelope import Envelope
from shared.domain.fold_state import SubjectState
from shared.domain.rejections import Rejected
from shared.web.problems import FieldError, ProblemError

Guard = Callable[[SubjectState, Sequence[NewEvent]], Awaitable[None]]
"""A last check of accepted events before they are written; raises ProblemError."""


@dataclass(frozen=True)
class Context:
    catalogue: CatalogueLookup
    topic_suffix: str = ""
    correlationid: str | None = None
    remind_before_working_days: int = 3


def rejection_problem(rejected: Rejected) -> ProblemError:
    errors = [FieldError(r.field, r.code.value, r.message) for r in rejected.rejections]
    return ProblemError(
        status=rejected.http_status,
        code=rejected.rejections[0].code.value,
        detail="; ".join(r.message for r in rejected.rejections),
        errors=errors,
    )


async def execute(
    conn: AsyncConnection,
    subject_id: str,
    command: AnyCommand,
    ctx: Context,
    guard: Guard | None = None,
) -> SubjectState:
    """Decide `command` against the subject's stream; write what it yields (same tx).
    Returns the subject's state with the new events. Refusals raise ProblemError."""
    await locks.lock_subjects(conn, [subject_id])
    streams = await repository.load_streams(conn, [subject_id])
    state = streams[subject_id].state
    outcome = decide(state, command, ctx.catalogue)
    if isinstance(outcome, Rejected):
        raise rejection_problem(outcome)
    if guard is not None:
        await guard(state, outcome)
    # Related persons' streams (a new designation's linked ones, a cascade): lock
    # them after the subject's own, which the global lock order allows.
    others = {e.subject for e in outcome} - {subject_id}
    if others:
        await locks.lock_subjects(conn, others)
        streams.update(await repository.load_streams(conn, others))
    staged = Staged()
    staged.add(streams, outcome, envelopes_of(outcome, command.department, ctx.correlationid))
    await commit(conn, streams, staged, ctx)
    return streams[subject_id].state


async def commit(
    conn: AsyncConnection, streams: dict[str, Stream], staged: Staged, ctx: Context
) -> None:
    """Write staged events (stream, indexes, outbox) and re-plan the timers of every
    designation they touched."""
    try:
        await repository.write(conn, staged, ctx.topic_suffix)
    except repository.ConcurrentChange as exc:
        raise ProblemError(
            409,
            "concurrent_change",
            "another command changed the subject at the same time; send it again",
            errors=[FieldError("subject", "concurrent_change", "the subject changed meanwhile")],
        ) from exc
    records = [
        record
        for designation_id, subject in staged.touched.items()
        if (record := streams[subject].state.designation(designation_id)) is not None
    ]
    await timers.sync(
        conn,
        records,
        ctx.catalogue,
        remind_before_working_days=ctx.remind_before_working_days,
        fresh=staged.issued,
    )


def envelopes_of(
    events: Sequence[NewEvent], department: str, correlationid: str | None
) -> list[Envelope]:
    """Envelopes for one command's events: the first is the cause of the others."""
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
