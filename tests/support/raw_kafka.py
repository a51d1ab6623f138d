"""Raw records on a stack's topics, as a misbehaving producer would send them, and
the dead letters the consumers made of them (through the adapter `jsb deadletter`
uses)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer

from shared.adapters.deadletter_log import DeadLetter, read_all
from tests.support.stack import Stack

Raw = tuple[str, bytes | None, bytes | None]
"""(topic without the suffix, key, value)."""


def produce_raw(stack: Stack, records: Sequence[Raw]) -> None:
    """Publish `records` as they are (no idempotence, sizes up to 16 MiB)."""

    async def run() -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=stack.infra.kafka, max_request_size=16 * 1024 * 1024
        )
        await producer.start()
        try:
            for topic, key, value in records:
                await producer.send_and_wait(topic + stack.topic_suffix, value, key=key)
        finally:
            await producer.stop()

    asyncio.run(run())


def dead_letters(stack: Stack) -> list[DeadLetter]:
    return asyncio.run(read_all(stack.infra.kafka, stack.topic_suffix))
