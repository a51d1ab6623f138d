"""The contract of `ConsumerOffsets` (shared/ports.py), through Transactions."""

from __future__ import annotations

from aiokafka.structs import TopicPartition

from shared.ports import ConsumerOffsets, Transactions


class OffsetsContract:
    """Subclasses provide a fixture `offsets` giving Transactions[ConsumerOffsets]."""

    async def test_stored_offsets_are_read_back_per_consumer(
        self, offsets: Transactions[ConsumerOffsets]
    ) -> None:
        a0, a1 = TopicPartition("a", 0), TopicPartition("a", 1)
        async with offsets.begin() as tx:
            assert await tx.stored("ledger") == {}
            await tx.store("ledger", {a0: 10, a1: 3})
            await tx.store("other", {a0: 99})
            assert await tx.stored("ledger") == {a0: 10, a1: 3}
        async with offsets.begin() as tx:
            await tx.store("ledger", {a0: 12})
        async with offsets.begin() as tx:
            assert await tx.stored("ledger") == {a0: 12, a1: 3}
            assert await tx.stored("other") == {a0: 99}

    async def test_offsets_of_a_rolled_back_transaction_are_not_kept(
        self, offsets: Transactions[ConsumerOffsets]
    ) -> None:
        tp = TopicPartition("b", 0)
        async with offsets.begin() as tx:
            await tx.store("c", {tp: 5})
        try:
            async with offsets.begin() as tx:
                await tx.store("c", {tp: 9})
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
        async with offsets.begin() as tx:
            assert await tx.stored("c") == {tp: 5}
