"""The timer loop (issue 5 §4): due timers become domain commands, run through
`handlers.execute` like any department's command.

Exactly once: a timer's command, its events, its outbox rows and the timer's
`done_at` commit in one transaction; a crash before the commit leaves the timer
due, and the next round (or the restarted process) fires it again.

Lock order: the subject's advisory lock first, then the timer row — the order a
command takes (it locks the subject, then upserts the subject's timers). The other
way round, a command re-planning a timer that is firing would deadlock with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from services.initiator import handlers, locks, timers
from services.initiator.repository import PostgresSubjectStreams
from services.initiator.timer_plan import command_for
from shared.domain.errors import CommandRefused, ConcurrentChange
from shared.domain.rejections import RejectionCode

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 3600.0
# Refusals that mean "not yet" rather than "never": the timer is asked again later.
TOO_EARLY = frozenset(
    {RejectionCode.NOT_YET_EXPIRED.value, RejectionCode.EXIT_OUTSIDE_WINDOW.value}
)


class TimerLoop:
    def __init__(
        self, engine: AsyncEngine, ctx: handlers.CommandContext, *, poll_s: float, batch: int
    ) -> None:
        self._engine = engine
        self._ctx = ctx
        self._poll_s = poll_s
        self._batch = batch
        self.fired = 0
        self.refused = 0

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # database away: try again next round
                log.exception("timer loop: round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._poll_s)

    async def run_once(self) -> int:
        """Fire the timers due now; returns how many were handled."""
        async with self._engine.connect() as conn:
            candidates = await timers.due(conn, self._batch)
        handled = 0
        for timer_id, subject_id in candidates:
            handled += await self._fire(timer_id, subject_id)
        return handled

    async def _fire(self, timer_id: int, subject_id: str) -> int:
        try:
            async with self._engine.begin() as conn:
                await locks.lock_subjects(conn, [subject_id])
                timer = await timers.claim(conn, timer_id)
                if timer is None:  # fired meanwhile, rescheduled, or held by another
                    return 0
                command = command_for(
                    timer.kind, timer.target_id, timer.department, datetime.now(UTC)
                )
                try:
                    async with conn.begin_nested():
                        await handlers.execute(
                            PostgresSubjectStreams(conn), timer.subject_id, command, self._ctx
                        )
                    outcome = timers.FIRED
                    self.fired += 1
                except (CommandRefused, ConcurrentChange) as refused:
                    code = (
                        refused.code.value
                        if isinstance(refused, CommandRefused)
                        else ("concurrent_change")
                    )
                    if code in TOO_EARLY:  # clocks disagree by a moment: ask again
                        await timers.retry_later(conn, timer.id, MAX_BACKOFF_S, code)
                        return 0
                    outcome = f"refused: {code}"  # e.g. revoked meanwhile: moot
                    self.refused += 1
                await timers.finish(conn, timer.id, outcome)
                return 1
        except Exception as exc:
            log.exception("timer %s failed; retrying later", timer_id)
            with contextlib.suppress(Exception):
                async with self._engine.begin() as conn:
                    await timers.retry_later(conn, timer_id, MAX_BACKOFF_S, type(exc).__name__)
            return 0
