"""Command handlers: lock the subject, fold its stream, decide, append, outbox, timers
— one transaction (the caller's `SubjectStreams`, ports.py). Every command goes
through `execute`: HTTP routes, batch chunks and due timers alike. Lock order: see
services/initiator/locks.py. Refusals raise shared/domain/errors.py's exceptions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from services.initiator.ports import SubjectStreams
from services.initiator.streams import Staged, Stream
from shared.domain.commands import AnyCommand
from shared.domain.decide import decide
from shared.domain.decide_support import CatalogueLookup, NewEvent
from shared.domain.envelope import Envelope
from shared.domain.errors import CommandRefused
from shared.domain.fold_state import SubjectState
from shared.domain.rejections import Rejected

Guard = Callable[[SubjectState, Sequence[NewEvent]], Awaitable[None]]
"""A last check of accepted events before they are written; raises a DomainError."""


@dataclass(frozen=True)
class CommandContext:
    """What every command runs with besides its streams: the catalogue, the topics'
    suffix, the request's correlation id, the reminder setting."""

    catalogue: CatalogueLookup
    topic_suffix: str = ""
    correlationid: str | None = None
    remind_before_working_days: int = 3


async def execute(
    tx: SubjectStreams,
    subject_id: str,
    command: AnyCommand,
    ctx: CommandContext,
    guard: Guard | None = None,
) -> SubjectState:
    """Decide `command` against the subject's stream; write what it yields (same tx).
    Returns the subject's state with the new events. Refusals raise CommandRefused."""
    await tx.lock([subject_id])
    streams = await tx.load([subject_id])
    state = streams[subject_id].state
    outcome = decide(state, command, ctx.catalogue)
    if isinstance(outcome, Rejected):
        raise CommandRefused(outcome)
    if guard is not None:
        await guard(state, outcome)
    # Related persons' streams (a new designation's linked ones, a cascade): lock
    # them after the subject's own, which the global lock order allows.
    others = {e.subject for e in outcome} - {subject_id}
    if others:
        await tx.lock(others)
        streams.update(await tx.load(others))
    staged = Staged()
    staged.add(streams, outcome, envelopes_of(outcome, command.department, ctx.correlationid))
    await commit(tx, streams, staged, ctx)
    return streams[subject_id].state


async def commit(
    tx: SubjectStreams, streams: dict[str, Stream], staged: Staged, ctx: CommandContext
) -> None:
    """Write staged events (stream, indexes, outbox) and re-plan the timers of every
    designation they touched. A stream that moved meanwhile raises ConcurrentChange."""
    await tx.write(staged, ctx.topic_suffix)
    records = [
        record
        for designation_id, subject in staged.touched.items()
        if (record := streams[subject].state.designation(designation_id)) is not None
    ]
    await tx.plan_timers(
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
