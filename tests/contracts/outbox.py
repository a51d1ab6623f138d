"""The contract of `Outbox` (shared/ports.py), through `Transactions[Outbox]`."""

from __future__ import annotations

from uuid import uuid4

from shared.ports import Outbox, OutboxMessage, Transactions


def message(n: int, topic: str) -> OutboxMessage:
    return OutboxMessage(topic, f"key-{n}", f"value-{n}".encode(), {"h": str(n)})


class OutboxContract:
    """Subclasses provide a fixture `outbox` giving Transactions[Outbox] over an
    empty outbox."""

    async def test_messages_wait_in_order_until_published(
        self, outbox: Transactions[Outbox]
    ) -> None:
        topic = "t." + uuid4().hex
        async with outbox.begin() as tx:
            await tx.enqueue([message(1, topic), message(2, topic)])
        async with outbox.begin() as tx:
            await tx.enqueue([message(3, topic)])
        async with outbox.begin() as tx:
            pending = await tx.pending(10)
        assert [m for _, m in pending] == [message(n, topic) for n in (1, 2, 3)]
        ids = [i for i, _ in pending]
        assert ids == sorted(ids)
        async with outbox.begin() as tx:
            await tx.mark_published(ids[:2])
        async with outbox.begin() as tx:
            assert [m for _, m in await tx.pending(10)] == [message(3, topic)]
            assert len(await tx.pending(0)) == 0

    async def test_a_rolled_back_transaction_enqueues_nothing(
        self, outbox: Transactions[Outbox]
    ) -> None:
        topic = "t." + uuid4().hex
        try:
            async with outbox.begin() as tx:
                await tx.enqueue([message(1, topic)])
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
        async with outbox.begin() as tx:
            assert await tx.pending(10) == []

    async def test_a_large_batch_keeps_its_order_bytes_and_headers(
        self, outbox: Transactions[Outbox]
    ) -> None:
        """A batch far above any write path's threshold (the Postgres adapter's COPY),
        between small ones in the same transaction: every row as enqueued, in order,
        headers empty or not ASCII included."""
        topic = "t." + uuid4().hex
        large = [
            OutboxMessage(topic, f"키-{n}", bytes([n % 256, 0, 255]) * n, {"h": "é" * (n % 3)})
            if n % 2
            else OutboxMessage(topic, f"key-{n}", b"", {})
            for n in range(2, 202)
        ]
        async with outbox.begin() as tx:
            await tx.enqueue([message(1, topic)])
            await tx.enqueue(large)
            await tx.enqueue([message(202, topic)])
        async with outbox.begin() as tx:
            pending = await tx.pending(500)
        assert [m for _, m in pending] == [message(1, topic), *large, message(202, topic)]
        ids = [i for i, _ in pending]
        assert ids == sorted(ids)
        assert len(set(ids)) == len(ids)
