"""Poison messages go to the dead-letter topic with the reason and the source in
headers, through the consumer's outbox (so the dead letter and the offset move
together: a poison record is neither lost nor dead-lettered twice)."""

from __future__ import annotations

from aiokafka import ConsumerRecord

from shared.adapters.topics import DEADLETTER
from shared.ports import OutboxMessage


def dead_letter(
    record: ConsumerRecord, reason: str, consumer: str, suffix: str = ""
) -> OutboxMessage:
    key = record.key.decode(errors="replace") if record.key else ""
    return OutboxMessage(
        topic=DEADLETTER + suffix,
        key=key,
        value=record.value if record.value is not None else b"",
        headers={
            "jsb-reason": reason[:1000],
            "jsb-consumer": consumer,
            "jsb-source-topic": record.topic,
            "jsb-source-partition": str(record.partition),
            "jsb-source-offset": str(record.offset),
        },
    )
