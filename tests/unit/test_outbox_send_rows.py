"""`send_rows` never drops a row its batch refused (the relay's guard)."""

from __future__ import annotations

from typing import Any

import pytest
from aiokafka.errors import MessageSizeTooLargeError

from shared.adapters.outbox import send_rows


class _RefusingBatch:
    def append(self, **_: Any) -> None:
        return None  # full, even when empty


class _Cluster:
    def available_partitions_for_topic(self, topic: str) -> set[int]:
        return {0}


class _Client:
    cluster = _Cluster()


class _Producer:
    """What `send_rows` uses of an AIOKafkaProducer, with a batch that takes nothing."""

    _max_request_size = 1_048_576
    client = _Client()

    def __init__(self) -> None:
        self.sent: list[Any] = []

    @staticmethod
    def _partitioner(key: bytes, every: list[int], available: list[int]) -> int:
        return 0

    async def partitions_for(self, topic: str) -> set[int]:
        return {0}

    def create_batch(self) -> _RefusingBatch:
        return _RefusingBatch()

    async def send_batch(self, batch: Any, topic: str, *, partition: int) -> Any:
        self.sent.append(batch)
        raise AssertionError("nothing may be sent")


async def test_a_row_no_empty_batch_takes_is_refused_not_dropped() -> None:
    producer = _Producer()
    rows = [{"id": 7, "topic": "t", "key": "k", "value": b"v"}]
    with pytest.raises(MessageSizeTooLargeError, match="outbox row 7 fits no batch"):
        await send_rows(producer, rows, [{}])  # type: ignore[arg-type]
    assert producer.sent == []
