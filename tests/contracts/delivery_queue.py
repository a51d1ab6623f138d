"""The contract of the notifier's `DeliveryQueue` port (services/notifier/ports.py),
through `Transactions[Webhooks]` (its status log holds what the queue sends)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from services.notifier.ports import Claimed, DeliveryQuery, NewDelivery, Webhooks
from services.notifier.status_batch import webhook_id
from shared.ports import Transactions


async def logged(
    webhooks: Transactions[Webhooks], subjects: list[str]
) -> list[tuple[str, int, UUID]]:
    """One status change per entry of `subjects`, in that order: (subject, position,
    message id)."""
    out = []
    async with webhooks.begin() as tx:
        for subject in subjects:
            message = uuid4()
            position = await tx.status_log.append(
                message, subject, {"subject": subject}, f'{{"m":"{message}"}}'
            )
            assert position is not None
            out.append((subject, position, message))
    return out


async def queued(
    webhooks: Transactions[Webhooks], sid: UUID, changes: list[tuple[str, int, UUID]]
) -> None:
    async with webhooks.begin() as tx:
        await tx.queue.enqueue([NewDelivery(sid, p, s, webhook_id(sid, m)) for s, p, m in changes])


async def claim(
    webhooks: Transactions[Webhooks],
    sid: UUID,
    n: int = 10,
    busy: tuple[str, ...] = (),
    lease_s: float = 30,
) -> list[Claimed]:
    async with webhooks.begin() as tx:
        return await tx.queue.claim(sid, n, busy, lease_s)


async def one_claimed(
    webhooks: Transactions[Webhooks], lease_s: float = 30
) -> tuple[UUID, Claimed]:
    """A new subscription with one queued change, claimed."""
    sid = uuid4()
    await queued(webhooks, sid, await logged(webhooks, subjects(1)))
    [claimed] = await claim(webhooks, sid, lease_s=lease_s)
    return sid, claimed


def subjects(n: int) -> list[str]:
    tag = uuid4().hex[:8].upper()
    return [f"S{i}-{tag}" for i in range(n)]


class DeliveryQueueContract:
    """Subclasses provide a fixture `webhooks` giving Transactions[Webhooks]."""

    async def test_a_subjects_deliveries_are_claimed_one_at_a_time_in_order(
        self, webhooks: Transactions[Webhooks]
    ) -> None:
        sid, (a, b) = uuid4(), subjects(2)
        changes = await logged(webhooks, [a, b, a, a])
        await queued(webhooks, sid, changes)
        await queued(webhooks, sid, changes)  # queued twice: kept once
        (_, pa1, ma1), (_, pb1, _), (_, pa2, _), (_, pa3, _) = changes
        first = await claim(webhooks, sid)
        assert [(c.subject_id, c.position, c.attempts) for c in first] == [(a, pa1, 1), (b, pb1, 1)]
        assert first[0].webhook_id == webhook_id(sid, ma1)
        assert first[0].body == f'{{"m":"{ma1}"}}'
        assert await claim(webhooks, sid) == []  # leased, and a's next waits
        async with webhooks.begin() as tx:
            await tx.queue.delivered(first[0].id, 200)
        [second] = await claim(webhooks, sid)
        assert (second.subject_id, second.position) == (a, pa2)
        async with webhooks.begin() as tx:  # waiting for its retry: still holds a back
            await tx.queue.failed(second.id, status=503, error="HTTP 503", retry_in_s=3600)
        assert await claim(webhooks, sid) == []
        async with webhooks.begin() as tx:  # dead: no longer holds a back
            await tx.queue.failed(second.id, status=400, error="HTTP 400", retry_in_s=None)
        [third] = await claim(webhooks, sid)
        assert third.position == pa3
        async with webhooks.begin() as tx:
            found = await tx.queue.find(DeliveryQuery(subscription_id=sid))
        assert [(d.position, d.state) for d in found] == [
            (pa1, "delivered"),
            (pb1, "pending"),
            (pa2, "dead"),
            (pa3, "pending"),
        ]
        assert (found[0].last_status_code, found[0].delivered_at is not None) == (200, True)
        assert (found[2].last_status_code, found[2].last_error) == (400, "HTTP 400")

    async def test_busy_subjects_and_n_limit_what_is_claimed(
        self, webhooks: Transactions[Webhooks]
    ) -> None:
        sid, (a, b, c) = uuid4(), subjects(3)
        await queued(webhooks, sid, await logged(webhooks, [a, b, c]))
        assert [x.subject_id for x in await claim(webhooks, sid, n=1, busy=(a,))] == [b]
        assert await claim(webhooks, sid, n=0) == []
        assert [x.subject_id for x in await claim(webhooks, sid)] == [a, c]
        assert await claim(webhooks, uuid4()) == []  # another subscription's queue

    async def test_order_per_subject_holds_under_two_concurrent_claimers(
        self, webhooks: Transactions[Webhooks]
    ) -> None:
        sid, names = uuid4(), subjects(3)
        changes = await logged(webhooks, names * 4)
        await queued(webhooks, sid, changes)
        in_flight: set[str] = set()
        sent: list[tuple[str, int, int]] = []

        async def claimer() -> None:
            while len(sent) < len(changes):
                async with webhooks.begin() as tx:
                    got = await tx.queue.claim(sid, 2, [], 30)
                    await asyncio.sleep(0.02)  # the other claimer runs meanwhile
                for c in got:
                    assert c.subject_id not in in_flight, "two of one subject in flight"
                    in_flight.add(c.subject_id)
                await asyncio.sleep(0.05)  # "sending", longer than the other claim
                for c in got:
                    in_flight.discard(c.subject_id)
                    sent.append((c.subject_id, c.position, c.id))
                    async with webhooks.begin() as tx:
                        await tx.queue.delivered(c.id, 200)
                if not got:
                    await asyncio.sleep(0.01)

        await asyncio.wait_for(asyncio.gather(claimer(), claimer()), 60)
        assert len({i for _, _, i in sent}) == len(changes) == len(sent)
        for name in names:
            positions = [p for s, p, _ in sent if s == name]
            assert positions == sorted(p for s, p, _ in changes if s == name)

    async def test_an_expired_lease_makes_it_claimable_again_with_the_same_webhook_id(
        self, webhooks: Transactions[Webhooks]
    ) -> None:
        sid, first = await one_claimed(webhooks, lease_s=0.3)
        assert await claim(webhooks, sid) == []
        await asyncio.sleep(0.6)  # the sender died: its lease runs out
        [again] = await claim(webhooks, sid)
        assert (again.id, again.webhook_id, again.attempts) == (first.id, first.webhook_id, 2)

    async def test_a_failed_attempt_is_due_again_after_its_retry_time(
        self, webhooks: Transactions[Webhooks]
    ) -> None:
        sid, first = await one_claimed(webhooks)
        async with webhooks.begin() as tx:
            await tx.queue.failed(first.id, status=None, error="timeout", retry_in_s=0.3)
        assert await claim(webhooks, sid) == []
        await asyncio.sleep(0.6)
        [again] = await claim(webhooks, sid)
        assert (again.id, again.attempts) == (first.id, 2)
        async with webhooks.begin() as tx:
            [row] = await tx.queue.find(DeliveryQuery(subscription_id=sid))
        assert (row.last_status_code, row.last_error) == (None, "timeout")

    async def test_a_rolled_back_claim_leaves_it_due(
        self, webhooks: Transactions[Webhooks]
    ) -> None:
        sid, [a] = uuid4(), subjects(1)
        await queued(webhooks, sid, await logged(webhooks, [a]))

        async def claim_then_fail() -> None:
            async with webhooks.begin() as tx:
                assert len(await tx.queue.claim(sid, 1, [], 30)) == 1
                raise RuntimeError("roll back")

        with pytest.raises(RuntimeError):
            await claim_then_fail()
        [again] = await claim(webhooks, sid)
        assert again.attempts == 1

    async def test_manual_retry_sends_again_whatever_the_state(
        self, webhooks: Transactions[Webhooks]
    ) -> None:
        sid, first = await one_claimed(webhooks)
        async with webhooks.begin() as tx:
            await tx.queue.delivered(first.id, 204)
            retried = await tx.queue.retry(first.id)
            assert await tx.queue.retry(-1) is None
        assert retried is not None
        assert (retried.state, retried.attempts, retried.webhook_id) == (
            "pending",
            0,
            first.webhook_id,
        )
        [again] = await claim(webhooks, sid)
        assert (again.id, again.attempts) == (first.id, 1)

    async def test_recover_requeues_dead_and_missed_once_and_leaves_delivered_alone(
        self, webhooks: Transactions[Webhooks]
    ) -> None:
        sid, names = uuid4(), subjects(2)
        mine = set(names)
        before = datetime.now(UTC) - timedelta(seconds=1)

        def wanted(facets: Mapping[str, Any], subject: str) -> bool:
            return subject in mine and facets["subject"] == subject

        changes = await logged(webhooks, [names[0], names[1], names[0], names[1]])
        await logged(webhooks, ["other-" + names[0]])  # not wanted
        await queued(webhooks, sid, changes[:2])  # the last two were missed
        delivered, dead = await claim(webhooks, sid)
        async with webhooks.begin() as tx:
            await tx.queue.delivered(delivered.id, 200)
            await tx.queue.failed(dead.id, status=400, error="HTTP 400", retry_in_s=None)
        since = changes[0][1] - 1

        async def recover(**since: Any) -> int:
            async with webhooks.begin() as tx:
                return await tx.queue.recover(sid, wanted, webhook_id, **since)

        assert await recover(since_position=since, since_time=None) == 3
        assert await recover(since_position=since, since_time=None) == 0  # idempotent
        assert await recover(since_position=None, since_time=before) == 0
        async with webhooks.begin() as tx:
            found = await tx.queue.find(DeliveryQuery(subscription_id=sid))
        assert [(d.position, d.state, d.webhook_id) for d in found] == [
            (p, "delivered" if p == delivered.position else "pending", webhook_id(sid, m))
            for _, p, m in changes
        ]
        assert [d.attempts for d in found] == [1, 0, 0, 0]
        assert [c.position for c in await claim(webhooks, sid)] == [p for _, p, _ in changes[1:3]]
        other = uuid4()  # by time: everything received since then that is wanted
        async with webhooks.begin() as tx:
            assert (
                await tx.queue.recover(
                    other, wanted, webhook_id, since_position=None, since_time=before
                )
                == 4
            )
            later = await tx.queue.recover(
                other, wanted, webhook_id, since_position=changes[2][1], since_time=None
            )
        assert later == 0

    async def test_held_ones_wait_for_release_which_also_frees_the_streaks_dead_in_order(
        self, webhooks: Transactions[Webhooks]
    ) -> None:
        sid, [a, b] = uuid4(), subjects(2)
        old, died, retrying, *missed = await logged(webhooks, [a, a, a, a, b])
        await queued(webhooks, sid, [old, died, retrying])
        async with webhooks.begin() as tx:
            await tx.queue.enqueue(
                [NewDelivery(sid, p, s, webhook_id(sid, m), held=True) for s, p, m in missed]
            )
        streak = datetime.now(UTC) - timedelta(hours=1)
        for position, at, retry in (
            (old[1], streak - timedelta(seconds=1), None),  # died before the streak
            (died[1], streak, None),  # the death that started it
            (retrying[1], streak + timedelta(seconds=1), 3600.0),
        ):
            [c] = await claim(webhooks, sid)
            assert c.position == position  # a held one is never claimed
            async with webhooks.begin() as tx:
                await tx.queue.failed(c.id, status=503, error="HTTP 503", retry_in_s=retry, at=at)
        assert await claim(webhooks, sid) == []
        async with webhooks.begin() as tx:
            found = await tx.queue.find(DeliveryQuery(subscription_id=sid))
            assert [d.state for d in found] == ["dead", "dead", "pending", "held", "held"]
            assert found[1].next_attempt_at == streak  # a dead one keeps when it died
            assert await tx.queue.release(sid, streak) == 3
            assert await tx.queue.release(sid, streak) == 0
            found = await tx.queue.find(DeliveryQuery(subscription_id=sid))
        assert [(d.state, d.attempts) for d in found] == [
            ("dead", 1), ("pending", 0), ("pending", 1), ("pending", 0), ("pending", 0),
        ]  # fmt: skip
        # a's changes in position order (the one retrying waits behind the freed one)
        assert [c.position for c in await claim(webhooks, sid)] == [died[1], missed[1][1]]
        async with webhooks.begin() as tx:
            assert await tx.queue.release(uuid4(), None) == 0

    async def test_release_without_a_streak_frees_only_the_held(
        self, webhooks: Transactions[Webhooks]
    ) -> None:
        sid, [a, b] = uuid4(), subjects(2)
        dead, held = await logged(webhooks, [a, b])
        await queued(webhooks, sid, [dead])
        [c] = await claim(webhooks, sid)
        async with webhooks.begin() as tx:
            await tx.queue.failed(c.id, status=400, error="HTTP 400", retry_in_s=None)
            await tx.queue.enqueue([NewDelivery(sid, held[1], b, webhook_id(sid, held[2]), True)])
            assert await tx.queue.release(sid, None) == 1
            found = await tx.queue.find(DeliveryQuery(subscription_id=sid))
        assert [d.state for d in found] == ["dead", "pending"]

    async def test_cancel_pending_leaves_the_rest(self, webhooks: Transactions[Webhooks]) -> None:
        sid, other, [a, b] = uuid4(), uuid4(), subjects(2)
        changes = await logged(webhooks, [a, b])
        await queued(webhooks, sid, changes)
        await queued(webhooks, other, changes)
        [done, _] = await claim(webhooks, sid)
        [held] = await logged(webhooks, [b])
        async with webhooks.begin() as tx:
            await tx.queue.enqueue([NewDelivery(sid, held[1], b, webhook_id(sid, held[2]), True)])
            await tx.queue.delivered(done.id, 200)
            await tx.queue.cancel_pending(sid)
        assert await claim(webhooks, sid) == []
        async with webhooks.begin() as tx:
            assert await tx.queue.release(sid, None) == 0  # a cancelled held one stays so
            states = [d.state for d in await tx.queue.find(DeliveryQuery(subscription_id=sid))]
            theirs = await tx.queue.find(DeliveryQuery(subscription_id=other, state="pending"))
        assert states == ["delivered", "cancelled", "cancelled"]
        assert len(theirs) == 2

    async def test_find_filters_and_pages_in_id_order(
        self, webhooks: Transactions[Webhooks]
    ) -> None:
        sid, [a, b] = uuid4(), subjects(2)
        await queued(webhooks, sid, await logged(webhooks, [a, b, a]))
        async with webhooks.begin() as tx:
            every = await tx.queue.find(DeliveryQuery(subscription_id=sid))
            of_a = await tx.queue.find(DeliveryQuery(subscription_id=sid, subject_id=a))
            page = await tx.queue.find(
                DeliveryQuery(subscription_id=sid, after=every[0].id, limit=1)
            )
            none = await tx.queue.find(DeliveryQuery(subscription_id=sid, state="dead"))
        assert [d.subject_id for d in every] == [a, b, a]
        assert [d.id for d in every] == sorted(d.id for d in every)
        assert [d.id for d in of_a] == [every[0].id, every[2].id]
        assert [d.id for d in page] == [every[1].id]
        assert none == []
        assert all(d.state == "pending" and d.attempts == 0 for d in every)
