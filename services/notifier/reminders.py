"""The clock's notices: overdue feedback (a reminder to the department, then an
escalation to ops), objection review deadlines nearing and passed (to the
initiator). A loop scans the watched deadlines every `reminder_scan_s`; planning is
pure (notices.on_clock) and each notice has a dedup key, so a scan repeated after a
crash, or by a second instance, tells nobody twice."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.notifier import tables
from services.notifier.notices import ReminderRules, WatchItem, on_clock
from services.notifier.ports import Clock, Notices
from services.notifier.settings import NotifierSettings

log = logging.getLogger(__name__)


class ShiftedClock:
    """The wall clock, shifted by `offset` (a test clock; zero in production)."""

    def __init__(self, offset_s: float = 0.0) -> None:
        self.offset = timedelta(seconds=offset_s)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


def rules(settings: NotifierSettings) -> ReminderRules:
    return ReminderRules(
        remind_after=timedelta(seconds=settings.remind_after_s),
        escalate_after=timedelta(seconds=settings.escalate_after_s),
        objection_nearing=timedelta(seconds=settings.objection_nearing_s),
    )


async def scan(
    engine: AsyncEngine,
    notices: Callable[[AsyncConnection], Notices],
    clock: Clock,
    rules_: ReminderRules,
) -> int:
    """One pass over the watched deadlines; returns how many notices were new."""
    now = clock.now()
    horizon = (now + rules_.objection_nearing + timedelta(days=1)).date()
    async with engine.begin() as conn:
        rows = await conn.execute(select(tables.watch).where(tables.watch.c.deadline <= horizon))
        planned = [n for r in rows for n in on_clock(WatchItem(**r._mapping), now, rules_)]
        return await notices(conn).tell(planned)


async def run(
    engine: AsyncEngine,
    notices: Callable[[AsyncConnection], Notices],
    clock: Clock,
    settings: NotifierSettings,
    stop: asyncio.Event,
) -> None:
    while not stop.is_set():
        try:
            told = await scan(engine, notices, clock, rules(settings))
            if told:
                log.info("reminders: %d new notices", told)
        except Exception as exc:  # the type only: SQL parameters hold subject ids
            log.error("reminders: scan failed (%s); retrying", type(exc).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), settings.reminder_scan_s)
