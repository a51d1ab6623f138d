"""The disable sweep's rule on the in-memory ports, with a clock the test moves: an
endpoint failing since the window's start, with no success and no attempt after it,
is disabled as a failed attempt would disable it (services/notifier/disable_sweep.py)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import UUID

from prometheus_client import CollectorRegistry

from services.notifier import disable_sweep, subscriptions
from services.notifier.dispatcher import DeliveryMetrics
from services.notifier.memory import MemoryWebhookStore
from services.notifier.settings import NotifierSettings
from tests.unit.test_notifier_service import subscribed

WINDOW = timedelta(days=5)
T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.at = now

    def now(self) -> datetime:
        return self.at


async def failed_at(store: MemoryWebhookStore, sid: UUID, at: datetime, ok: bool = False) -> bool:
    """An attempt's outcome recorded as the dispatcher records it."""
    async with store.begin() as tx:
        return await subscriptions.note_outcome(tx, sid, ok, WINDOW, "HTTP 503", at)


async def state(store: MemoryWebhookStore, sid: UUID) -> dict[str, object]:
    async with store.begin() as tx:
        return await subscriptions.get(tx, sid)


async def test_an_endpoint_down_for_the_window_is_disabled_without_another_attempt() -> None:
    store = MemoryWebhookStore()
    sid, _ = await subscribed(store, contact="court")
    await failed_at(store, sid, T0)  # the streak starts; every attempt then dies early
    await failed_at(store, sid, T0 + timedelta(minutes=40))
    clock = Clock(T0 + WINDOW - timedelta(seconds=1))
    assert await disable_sweep.sweep(store, clock, WINDOW) == []
    assert (await state(store, sid))["state"] == "enabled"
    clock.at = T0 + WINDOW
    assert await disable_sweep.sweep(store, clock, WINDOW) == [sid]
    sub = await state(store, sid)
    assert sub["state"] == "disabled"
    assert sub["disabled_at"] == T0 + WINDOW
    assert sub["disabled_reason"] == f"failing since {T0.isoformat()}: {subscriptions.SWEPT}"
    told = store.notice_store.rows
    assert [(n["kind"], n["audience"], n["recipient"]) for n in told] == [
        ("endpoint_disabled", "ops", "ops"),
        ("endpoint_disabled", "department", "court"),
    ]
    assert {n["details"]["reason"] for n in told} == {sub["disabled_reason"]}
    clock.at += timedelta(hours=1)  # a later pass (or another instance) finds it disabled
    assert await disable_sweep.sweep(store, clock, WINDOW) == []
    assert len(store.notice_store.rows) == 2


async def test_the_sweep_tells_what_a_failed_attempt_would_have_told() -> None:
    swept, attempted = MemoryWebhookStore(), MemoryWebhookStore()
    a, _ = await subscribed(swept, contact="court")
    b, _ = await subscribed(attempted, contact="court")
    for store, sid in ((swept, a), (attempted, b)):
        await failed_at(store, sid, T0)
    assert await disable_sweep.sweep(swept, Clock(T0 + WINDOW), WINDOW) == [a]
    assert await failed_at(attempted, b, T0 + WINDOW)  # the attempt-driven path

    def told(store: MemoryWebhookStore) -> list[tuple[object, ...]]:
        return [
            (n["kind"], n["audience"], n["recipient"], n["department"], n["details"]["url"])
            for n in store.notice_store.rows
        ]

    assert told(swept) == told(attempted)
    for store, sid in ((swept, a), (attempted, b)):
        sub = await state(store, sid)
        assert (sub["state"], sub["disabled_at"]) == ("disabled", T0 + WINDOW)
        assert str(sub["disabled_reason"]).startswith(f"failing since {T0.isoformat()}: ")


async def test_a_success_ends_the_streak_and_nothing_is_disabled() -> None:
    store = MemoryWebhookStore()
    sid, _ = await subscribed(store)
    await failed_at(store, sid, T0)
    await failed_at(store, sid, T0 + timedelta(days=1), ok=True)
    assert await disable_sweep.sweep(store, Clock(T0 + 2 * WINDOW), WINDOW) == []
    await failed_at(store, sid, T0 + timedelta(days=2))  # a new streak, from here
    assert await disable_sweep.sweep(store, Clock(T0 + WINDOW + timedelta(days=1)), WINDOW) == []
    later = Clock(T0 + WINDOW + timedelta(days=2))
    assert await disable_sweep.sweep(store, later, WINDOW) == [sid]


async def test_healthy_disabled_and_deleted_subscriptions_are_left_alone() -> None:
    store = MemoryWebhookStore()
    healthy, _ = await subscribed(store)
    disabled, _ = await subscribed(store)
    deleted, _ = await subscribed(store)
    for sid in (disabled, deleted):
        await failed_at(store, sid, T0)
    async with store.begin() as tx:
        await tx.subscriptions.disable(disabled, T0, "by hand")
        await subscriptions.delete(tx, deleted)
    assert await disable_sweep.sweep(store, Clock(T0 + 3 * WINDOW), WINDOW) == []
    assert (await state(store, healthy))["state"] == "enabled"
    assert (await state(store, disabled))["disabled_reason"] == "by hand"
    assert store.notice_store.rows == []


async def test_the_loop_disables_and_counts_it() -> None:
    store = MemoryWebhookStore()
    sid, _ = await subscribed(store)
    await failed_at(store, sid, T0)
    registry = CollectorRegistry()
    metrics = DeliveryMetrics(registry)
    stop = asyncio.Event()
    settings = NotifierSettings(disable_after_s=WINDOW.total_seconds(), disable_sweep_s=0.01)
    clock = Clock(T0 + WINDOW)
    loop = asyncio.create_task(disable_sweep.run(store, clock, settings, metrics.disabled, stop))
    try:
        for _ in range(200):
            if (await state(store, sid))["state"] == "disabled":
                break
            await asyncio.sleep(0.01)
    finally:
        stop.set()
        await loop
    assert (await state(store, sid))["state"] == "disabled"
    assert registry.get_sample_value("notifier_endpoints_disabled_total", {"by": "sweep"}) == 1.0
