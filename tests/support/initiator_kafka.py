"""What the initiator published, read from Kafka and its outbox (tests only).

`published_count` sums the end offsets of the suffixed jsb.designations topic;
`messages_about` reads the topic from the start and counts the messages of one
designation; `outbox_backlog` tells whether the relay has drained the outbox (so
that a count taken afterwards is final)."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from uuid import UUID

from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from services.initiator.relay_recovery import topic_partitions
from shared.adapters.topics import DESIGNATIONS
from tests.support.poll import until
from tests.support.stack import Stack


async def _end_offsets(bootstrap: str, topic: str) -> dict[TopicPartition, int]:
    partitions = await topic_partitions(bootstrap, {topic})
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        return dict(await consumer.end_offsets(partitions))
    finally:
        await consumer.stop()


def published_count(bootstrap: str, topic_suffix: str) -> int:
    """Messages ever published to the suffixed designations topic."""
    ends = asyncio.run(_end_offsets(bootstrap, DESIGNATIONS + topic_suffix))
    return sum(ends.values())


async def read_all(bootstrap: str, topic: str) -> list[dict[str, Any]]:
    ends = await _end_offsets(bootstrap, topic)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    out: list[dict[str, Any]] = []
    try:
        wanted = {tp: end for tp, end in ends.items() if end > 0}
        consumer.assign(list(wanted))
        for tp in wanted:
            consumer.seek(tp, 0)
        while wanted:
            batch = await consumer.getmany(*wanted, timeout_ms=1000)
            for messages in batch.values():
                out.extend(json.loads(m.value) for m in messages if m.value is not None)
            for tp in list(wanted):
                if await consumer.position(tp) >= wanted[tp]:
                    del wanted[tp]
        return out
    finally:
        await consumer.stop()


def envelopes(bootstrap: str, topic_suffix: str) -> list[dict[str, Any]]:
    """Every envelope in the suffixed designations topic."""
    return asyncio.run(read_all(bootstrap, DESIGNATIONS + topic_suffix))


def messages_about(
    bootstrap: str, topic_suffix: str, designation_id: UUID | str, type_: str | None = None
) -> list[dict[str, Any]]:
    """The envelopes in the topic whose data names `designation_id` (of `type_`)."""
    wanted = str(designation_id)
    return [
        e
        for e in envelopes(bootstrap, topic_suffix)
        if isinstance(e.get("data"), dict)
        and e["data"].get("designation_id") == wanted
        and (type_ is None or e.get("type") == type_)
    ]


async def _backlog(database_url: str, schema: str) -> int:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            n = await conn.execute(
                text(f'SELECT count(*) FROM "{schema}".outbox WHERE published_at IS NULL')
            )
            return int(n.scalar_one())
    finally:
        await engine.dispose()


def outbox_backlog(database_url: str, schema: str) -> int:
    return asyncio.run(_backlog(database_url, schema))


def drained_count(
    bootstrap: str, topic_suffix: str, database_url: str, schema: str, timeout_s: float = 30
) -> int:
    """The published count once the initiator's outbox is empty."""
    until(lambda: outbox_backlog(database_url, schema), lambda n: n == 0, timeout_s=timeout_s)
    return published_count(bootstrap, topic_suffix)


def stack_published_count(stack: Stack) -> int:
    """Events in a stack's jsb.designations topic once its initiator's outbox is drained."""
    return drained_count(
        stack.infra.kafka,
        stack.topic_suffix,
        stack.infra.database_url,
        "initiator" + stack.schema_suffix,
    )
