"""The contract of the notifier's `SubscriptionStore` port
(services/notifier/ports.py), through `Transactions[Webhooks]`."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from services.notifier.filters import Filters
from services.notifier.ports import NewSubscription, Webhooks
from shared.ports import Transactions


def new(name: str = "s", contact: str | None = None) -> NewSubscription:
    return NewSubscription(
        name, "https://x.example/hook", Filters(polarity="sanction"), contact, 5.0
    )


async def created(webhooks: Transactions[Webhooks], sealed: str = "sealed-1") -> UUID:
    sid = uuid4()
    async with webhooks.begin() as tx:
        await tx.subscriptions.create(sid, new(), "ops", sealed)
    return sid


class SubscriptionStoreContract:
    """Subclasses provide a fixture `webhooks` giving Transactions[Webhooks]."""

    async def test_created_subscriptions_are_read_back_oldest_first(
        self, webhooks: Transactions[Webhooks]
    ) -> None:
        sid = uuid4()
        async with webhooks.begin() as tx:
            sub = await tx.subscriptions.create(sid, new("first", "court"), "ops", "sealed-a")
        later = await created(webhooks)
        async with webhooks.begin() as tx:
            got = await tx.subscriptions.get(sid)
            listed = [s.id for s in await tx.subscriptions.listed()]
            enabled = {s.id for s in await tx.subscriptions.enabled()}
            sealed = await tx.subscriptions.secrets(sid, datetime.now(UTC))
        assert got == sub
        assert (got.name, got.url, got.contact, got.rate_limit_per_s) == (
            "first",
            "https://x.example/hook",
            "court",
            5.0,
        )
        assert got.filters == {"polarity": "sanction"}
        assert (got.state, got.failing_since, got.disabled_at) == ("enabled", None, None)
        assert listed.index(sid) < listed.index(later)
        assert {sid, later} <= enabled
        assert sealed == ["sealed-a"]

    async def test_a_rolled_back_create_keeps_nothing(
        self, webhooks: Transactions[Webhooks]
    ) -> None:
        sid = uuid4()

        async def create_then_fail() -> None:
            async with webhooks.begin() as tx:
                await tx.subscriptions.create(sid, new(), "ops", "sealed")
                raise RuntimeError("roll back")

        with pytest.raises(RuntimeError):
            await create_then_fail()
        async with webhooks.begin() as tx:
            assert await tx.subscriptions.get(sid) is None
            assert await tx.subscriptions.secrets(sid, datetime.now(UTC)) == []

    async def test_a_deleted_one_is_neither_listed_nor_enabled(
        self, webhooks: Transactions[Webhooks]
    ) -> None:
        sid = await created(webhooks)
        async with webhooks.begin() as tx:
            await tx.subscriptions.delete(sid)
        async with webhooks.begin() as tx:
            got = await tx.subscriptions.get(sid)
            assert got is not None
            assert got.state == "deleted"
            assert sid not in {s.id for s in await tx.subscriptions.listed()}
            assert sid not in {s.id for s in await tx.subscriptions.enabled()}

    async def test_failing_disabled_and_enabled_again(
        self, webhooks: Transactions[Webhooks]
    ) -> None:
        sid = await created(webhooks)
        since = datetime.now(UTC) - timedelta(days=6)
        async with webhooks.begin() as tx:
            await tx.subscriptions.set_failing_since(sid, since)
        async with webhooks.begin() as tx:
            got = await tx.subscriptions.get(sid, lock=True)
            assert got is not None
            assert got.failing_since == since
            at = datetime.now(UTC)
            await tx.subscriptions.disable(sid, at, "failing since then")
        async with webhooks.begin() as tx:
            got = await tx.subscriptions.get(sid)
            assert got is not None
            assert (got.state, got.disabled_at, got.disabled_reason) == (
                "disabled",
                at,
                "failing since then",
            )
            assert sid not in {s.id for s in await tx.subscriptions.enabled()}
            assert sid in {s.id for s in await tx.subscriptions.listed()}
            await tx.subscriptions.enable(sid)
        async with webhooks.begin() as tx:
            got = await tx.subscriptions.get(sid)
            assert got is not None
            assert (got.state, got.failing_since, got.disabled_at, got.disabled_reason) == (
                "enabled",
                None,
                None,
                None,
            )
            await tx.subscriptions.set_failing_since(sid, since)
            await tx.subscriptions.set_failing_since(sid, None)  # a success ends the streak
            got = await tx.subscriptions.get(sid)
            assert got is not None
            assert got.failing_since is None

    async def test_rotate_keeps_old_secrets_until_the_overlap_ends(
        self, webhooks: Transactions[Webhooks]
    ) -> None:
        sid, other = await created(webhooks, "s1"), await created(webhooks, "o1")
        t = datetime.now(UTC)
        hour, second = timedelta(hours=1), timedelta(seconds=1)

        async def in_force(at: datetime, of: UUID = sid) -> list[str]:
            async with webhooks.begin() as tx:
                return await tx.subscriptions.secrets(of, at)

        async with webhooks.begin() as tx:
            await tx.subscriptions.rotate_secret(sid, "s2", t + hour)
        assert await in_force(t) == ["s2", "s1"]
        assert await in_force(t + hour + second) == ["s2"]
        async with webhooks.begin() as tx:  # a second rotation: s1 keeps its earlier end
            await tx.subscriptions.rotate_secret(sid, "s3", t + 2 * hour)
        assert await in_force(t + hour - second) == ["s3", "s2", "s1"]
        assert await in_force(t + hour + second) == ["s3", "s2"]
        assert await in_force(t + 2 * hour + second) == ["s3"]
        async with webhooks.begin() as tx:  # a shorter overlap ends every older one sooner
            await tx.subscriptions.rotate_secret(sid, "s4", t + hour / 2)
        assert await in_force(t + hour / 2 - second) == ["s4", "s3", "s2", "s1"]
        assert await in_force(t + hour / 2 + second) == ["s4"]
        assert await in_force(t + 10 * hour, other) == ["o1"]

    async def test_a_locked_subscription_makes_the_next_locker_wait(
        self, webhooks: Transactions[Webhooks]
    ) -> None:
        sid = await created(webhooks)
        release = asyncio.Event()
        order: list[str] = []

        async def first() -> None:
            async with webhooks.begin() as tx:
                await tx.subscriptions.get(sid, lock=True)
                order.append("first locked")
                await release.wait()
                await tx.subscriptions.set_failing_since(sid, datetime.now(UTC))
                order.append("first done")

        async def second() -> None:
            async with webhooks.begin() as tx:
                got = await tx.subscriptions.get(sid, lock=True)
                order.append("second locked")
                assert got is not None
                assert got.failing_since is not None

        holder = asyncio.create_task(first())
        await asyncio.sleep(0.1)
        later = asyncio.create_task(second())
        await asyncio.sleep(0.3)
        assert not later.done()
        release.set()
        await asyncio.gather(holder, later)
        assert order == ["first locked", "first done", "second locked"]

    async def test_listed_with_lock_makes_an_enable_wait_and_sees_it_after(
        self, webhooks: Transactions[Webhooks]
    ) -> None:
        """The ingest reads the subscriptions so: an `enable` waits for its batch."""
        sid = await created(webhooks)
        async with webhooks.begin() as tx:
            await tx.subscriptions.disable(sid, datetime.now(UTC), "down")
        release = asyncio.Event()
        order: list[str] = []

        async def ingest() -> None:
            async with webhooks.begin() as tx:
                [s] = [s for s in await tx.subscriptions.listed(lock=True) if s.id == sid]
                order.append(f"ingest saw {s.state}")
                await release.wait()
                order.append("ingest done")

        async def enable() -> None:
            async with webhooks.begin() as tx:
                await tx.subscriptions.get(sid, lock=True)
                await tx.subscriptions.enable(sid)
                order.append("enabled")

        async def next_ingest() -> None:
            async with webhooks.begin() as tx:
                [s] = [s for s in await tx.subscriptions.listed(lock=True) if s.id == sid]
                order.append(f"ingest saw {s.state}")

        holder = asyncio.create_task(ingest())
        await asyncio.sleep(0.1)
        later = asyncio.create_task(enable())
        await asyncio.sleep(0.3)
        assert not later.done()
        release.set()
        await asyncio.gather(holder, later)
        await next_ingest()
        assert order == ["ingest saw disabled", "ingest done", "enabled", "ingest saw enabled"]
