"""Poison messages go to the dead-letter topic with the reason and the source in
headers, through the consumer's outbox (so the dead letter and the offset move
together: a poison record is neither lost nor dead-lettered twice).

The headers name the record's origin: topic, partition, offset, the consumer that
refused it and its consumer group (set by the transactional consumer around each
batch, `consuming_in`), so `jsb deadletter list` can say where a record came from
and `jsb deadletter replay` can send it back there."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from aiokafka import ConsumerRecord

from shared.adapters.topics import DEADLETTER
from shared.ports import OutboxMessage

REASON = "jsb-reason"
CONSUMER = "jsb-consumer"
GROUP = "jsb-consumer-group"
SOURCE_TOPIC = "jsb-source-topic"
SOURCE_PARTITION = "jsb-source-partition"
SOURCE_OFFSET = "jsb-source-offset"
REPLAYED_FROM = "jsb-replayed-from"
"""On a replayed record: the dead letter it came from (`partition@offset`)."""

_group: ContextVar[str | None] = ContextVar("jsb_consumer_group", default=None)


@contextmanager
def consuming_in(group_id: str) -> Iterator[None]:
    """Dead letters made meanwhile name `group_id` as their consumer group."""
    token = _group.set(group_id)
    try:
        yield
    finally:
        _group.reset(token)


def dead_letter(
    record: ConsumerRecord, reason: str, consumer: str, suffix: str = ""
) -> OutboxMessage:
    key = record.key.decode(errors="replace") if record.key else ""
    headers = {
        REASON: reason[:1000],
        CONSUMER: consumer,
        SOURCE_TOPIC: record.topic,
        SOURCE_PARTITION: str(record.partition),
        SOURCE_OFFSET: str(record.offset),
    }
    group = _group.get()
    if group is not None:
        headers[GROUP] = group
    return OutboxMessage(
        topic=DEADLETTER + suffix,
        key=key,
        value=record.value if record.value is not None else b"",
        headers=headers,
    )
