"""Exactly once in the topic, across a crash of the outbox relay.

The relay publishes a batch, waits for the broker's acks, then marks the rows
published. Killed between the acks and the mark, a plain restart would publish those
rows again: consumers drop the duplicates by event id, but the topic would hold the
command twice. So before the relay starts, the initiator looks at the tail of the
topics its unpublished rows go to: a row whose exact message (the envelope carries a
unique event id) is already there was published and is only marked.

Why the tail is enough: the relay publishes in id order, at most one batch is ever
in flight, and the initiator is the only producer of jsb.designations, so whatever a
crashed batch got into the topic sits within the last `window` (the batch size)
messages of each partition. (With several initiator instances another relay may
already have re-published the rows; that remaining duplicate is dropped downstream
by event id.)
"""

from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy import Table, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)


async def mark_already_published(
    engine: AsyncEngine, table: Table, bootstrap: str, *, window: int, timeout_s: float = 30.0
) -> int:
    """Mark unpublished outbox rows whose message is already in Kafka; returns how many."""
    t = table
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(t.c.id, t.c.topic, t.c.value)
                .where(t.c.published_at.is_(None))
                .order_by(t.c.id)
                .limit(window)
            )
        ).all()
    if not rows:
        return 0
    seen = await _tail_values(bootstrap, {r.topic for r in rows}, window, timeout_s)
    done = [r.id for r in rows if r.value in seen]
    if done:
        async with engine.begin() as conn:
            await conn.execute(update(t).where(t.c.id.in_(done)).values(published_at=func.now()))
        log.warning(
            "outbox: %d row(s) were published before a crash; marked, not re-sent", len(done)
        )
    return len(done)


async def topic_partitions(bootstrap: str, topics: set[str]) -> list[TopicPartition]:
    """The topics' partitions, from the cluster's metadata (a missing topic raises)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(sorted(topics))
    finally:
        await admin.close()
    out: list[TopicPartition] = []
    for topic in described:
        if topic["error_code"] != 0:
            raise RuntimeError(f"topic {topic['topic']}: error {topic['error_code']}")
        out += [TopicPartition(topic["topic"], p["partition"]) for p in topic["partitions"]]
    return sorted(out)


async def _tail_values(
    bootstrap: str, topics: set[str], window: int, timeout_s: float
) -> set[bytes]:
    partitions = await topic_partitions(bootstrap, topics)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, client_id="jsb-initiator-recovery"
    )
    await consumer.start()
    try:
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        wanted: dict[TopicPartition, int] = {}
        for tp in partitions:
            if ends[tp] > 0:
                consumer.seek(tp, max(0, ends[tp] - window))
                wanted[tp] = ends[tp]
        seen: set[bytes] = set()

        async def read() -> None:
            while wanted:
                batch = await consumer.getmany(*wanted, timeout_ms=500)
                for messages in batch.values():
                    seen.update(m.value for m in messages if m.value is not None)
                for tp in list(wanted):
                    if await consumer.position(tp) >= wanted[tp]:
                        del wanted[tp]

        await asyncio.wait_for(read(), timeout_s)
        return seen
    finally:
        await consumer.stop()
