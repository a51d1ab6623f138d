"""The clock's notices: overdue feedback (a reminder to the department, then an
escalation to ops), objection review deadlines nearing and passed (to the
initiator). A loop scans the watched deadlines every `reminder_scan_s`; planning is
pure (notices.on_clock) and each notice has a dedup key, so a scan repeated after a
crash, or by a second instance, tells nobody twice. The deadlines and the notices are
reached through the `Webhooks` port (ports.py): `views.watched` and `notices.tell` in
one transaction."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta

from services.notifier.notices import ReminderRules, on_clock
from services.notifier.ports import Clock, WebhookStore
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


async def scan(store: WebhookStore, clock: Clock, rules_: ReminderRules) -> int:
    """One pass over the watched deadlines; returns how many notices were new."""
    now = clock.now()
    horizon = (now + rules_.objection_nearing + timedelta(days=1)).date()
    async with store.begin() as tx:
        watched = await tx.views.watched(horizon)
        planned = [n for item in watched for n in on_clock(item, now, rules_)]
        return await tx.notices.tell(planned)


async def run(
    store: WebhookStore,
    clock: Clock,
    settings: NotifierSettings,
    stop: asyncio.Event,
) -> None:
    while not stop.is_set():
        try:
            told = await scan(store, clock, rules(settings))
            if told:
                log.info("reminders: %d new notices", told)
        except Exception as exc:  # the type only: SQL parameters hold subject ids
            log.error("reminders: scan failed (%s); retrying", type(exc).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), settings.reminder_scan_s)
