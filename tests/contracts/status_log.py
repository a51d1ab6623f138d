"""The contract of the notifier's `StatusLog` port (services/notifier/ports.py),
through `Transactions[Webhooks]`: each message once, positions in the order of
appending (one by one or a batch at once), and the reads the live stream follows."""

from __future__ import annotations

from uuid import uuid4

import pytest

from services.notifier.ports import NewStatus, Webhooks
from shared.ports import Transactions


class StatusLogContract:
    """Subclasses provide a fixture `webhooks` giving Transactions[Webhooks]."""

    async def test_each_message_is_logged_once_at_a_later_position(
        self, webhooks: Transactions[Webhooks]
    ) -> None:
        first, second = uuid4(), uuid4()
        async with webhooks.begin() as tx:
            p1 = await tx.status_log.append(first, "S-" + first.hex, {"k": ["a"]}, "{}")
            p2 = await tx.status_log.append(second, "S-" + first.hex, {}, "{}")
        async with webhooks.begin() as tx:
            again = await tx.status_log.append(first, "S-" + first.hex, {}, "{}")
        assert p1 is not None
        assert p2 is not None
        assert p2 > p1
        assert again is None

    async def test_a_rolled_back_append_logs_nothing(
        self, webhooks: Transactions[Webhooks]
    ) -> None:
        message = uuid4()

        async def append_then_fail() -> None:
            async with webhooks.begin() as tx:
                assert await tx.status_log.append(message, "S", {}, "{}") is not None
                raise RuntimeError("roll back")

        with pytest.raises(RuntimeError):
            await append_then_fail()
        async with webhooks.begin() as tx:
            assert await tx.status_log.append(message, "S", {}, "{}") is not None

    async def test_a_batch_is_logged_in_its_order_once(
        self, webhooks: Transactions[Webhooks]
    ) -> None:
        before, a, b, c = uuid4(), uuid4(), uuid4(), uuid4()
        subject = "S-" + before.hex
        async with webhooks.begin() as tx:
            first = await tx.status_log.append(before, subject, {}, "{}")
        async with webhooks.begin() as tx:
            assert await tx.status_log.logged([before, a, b]) == {before}
            positions = await tx.status_log.append_many(
                [
                    NewStatus(a, subject, {"event_types": ["x"]}, '{"n": 1}'),
                    NewStatus(before, subject, {}, "{}"),  # logged before
                    NewStatus(b, subject, {}, '{"n": 2}'),
                    NewStatus(a, subject, {}, "{}"),  # twice in the batch
                    NewStatus(c, "S-other" + c.hex, {}, '{"n": 3}'),
                ]
            )
            assert await tx.status_log.logged([before, a, b, c, uuid4()]) == {before, a, b, c}
        pa, none1, pb, none2, pc = positions
        assert (none1, none2) == (None, None)
        assert None not in (first, pa, pb, pc)
        assert first < pa < pb < pc  # type: ignore[operator]
        async with webhooks.begin() as tx:
            assert await tx.status_log.append_many([]) == []

    async def test_readers_follow_positions_from_the_head(
        self, webhooks: Transactions[Webhooks]
    ) -> None:
        async with webhooks.begin() as tx:
            start = await tx.status_log.head()
        ids = [uuid4() for _ in range(3)]
        async with webhooks.begin() as tx:
            positions = await tx.status_log.append_many(
                [NewStatus(m, "S-" + m.hex, {"k": [n]}, f'{{"n": {n}}}') for n, m in enumerate(ids)]
            )
        async with webhooks.begin() as tx:
            head = await tx.status_log.head()
            every = await tx.status_log.after(start, 10)
            page = await tx.status_log.after(start, 2)
            rest = await tx.status_log.after(page[-1].position, 10)
            nothing = await tx.status_log.after(head, 10)
        assert head == positions[-1]
        assert head > start
        assert [s.position for s in every] == positions
        assert [(s.subject_id, dict(s.facets), s.body) for s in every] == [
            ("S-" + m.hex, {"k": [n]}, f'{{"n": {n}}}') for n, m in enumerate(ids)
        ]
        assert [s.position for s in page] == positions[:2]
        assert [s.position for s in rest] == positions[2:]
        assert nothing == []
