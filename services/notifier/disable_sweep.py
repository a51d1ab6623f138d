"""The disable sweep: endpoints that stay down are disabled even with little traffic.

An attempt that fails after `disable_after_s` of failing without a success disables
its subscription (subscriptions.note_outcome). But with little traffic every delivery
may die (attempts exhausted) before that window ends; then no attempt comes after it,
and the subscription would stay enabled and failing forever, ops and its contact
never told. So a loop looks every `disable_sweep_s` for enabled subscriptions whose
streak began `disable_after_s` ago or earlier and disables each through the same
rule (`subscriptions.disable_if_down`: same reason's form, same `endpoint_disabled`
notices, same metric), each in its own transaction with the subscription's row
locked. Safe with several instances: the second to lock a row finds it disabled (or
its streak ended by a success recorded meanwhile) and does nothing; the notices'
dedup keys do the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from uuid import UUID

from prometheus_client import Counter

from services.notifier import subscriptions
from services.notifier.ports import Clock, WebhookStore
from services.notifier.settings import NotifierSettings

log = logging.getLogger(__name__)


async def sweep(store: WebhookStore, clock: Clock, disable_after: timedelta) -> list[UUID]:
    """One pass; the subscriptions disabled by it."""
    now = clock.now()
    async with store.begin() as tx:
        due = [
            s.id
            for s in await tx.subscriptions.enabled()
            if s.failing_since is not None and now - s.failing_since >= disable_after
        ]
    disabled = []
    for sid in due:  # one transaction each: one endpoint's trouble holds no other
        async with store.begin() as tx:
            if await subscriptions.disable_if_down(tx, sid, disable_after, now):
                disabled.append(sid)
    return disabled


async def run(
    store: WebhookStore,
    clock: Clock,
    settings: NotifierSettings,
    disabled_total: Counter | None,
    stop: asyncio.Event,
) -> None:
    """`disabled_total`: the dispatcher's `notifier_endpoints_disabled` counter."""
    window = timedelta(seconds=settings.disable_after_s)
    while not stop.is_set():
        try:
            for sid in await sweep(store, clock, window):
                log.warning("disable sweep: subscription %s disabled (endpoint down)", sid)
                if disabled_total is not None:
                    disabled_total.labels("sweep").inc()
        except Exception as exc:  # the type only: SQL parameters hold subject ids
            log.error("disable sweep failed (%s); retrying", type(exc).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), settings.disable_sweep_s)
