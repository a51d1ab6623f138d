"""The dead-letter topic as an operator reads it: every dead letter with its origin
(read from the beginning to the end offsets of each partition, no consumer group),
and re-driving chosen ones to the topic they came from.

Replay is idempotent in effect: the record goes back unchanged (same event id), and
every consumer drops an event id it has applied already, so a record replayed twice
is applied once. `rekey` sends it under its envelope's subject (the fix for a
record dead-lettered for its key)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from shared.adapters import deadletter as dl
from shared.adapters import kafka_admin
from shared.adapters.kafka_clients import make_producer
from shared.adapters.topics import DEADLETTER, MAX_RECORD_BYTES


@dataclass(frozen=True)
class DeadLetter:
    partition: int
    offset: int
    at: datetime
    key: str
    value: bytes
    headers: dict[str, str]

    @property
    def ref(self) -> str:
        """`partition@offset` in the dead-letter topic: how an operator names one."""
        return f"{self.partition}@{self.offset}"

    @property
    def reason(self) -> str:
        return self.headers.get(dl.REASON, "")

    @property
    def source_topic(self) -> str:
        return self.headers.get(dl.SOURCE_TOPIC, "")

    def subject(self) -> str | None:
        """The envelope's subject, when the value is a JSON object that names one."""
        try:
            head = orjson.loads(self.value)
        except orjson.JSONDecodeError:
            return None
        subject = head.get("subject") if isinstance(head, dict) else None
        return subject if isinstance(subject, str) else None


async def read_all(bootstrap: str, suffix: str = "", timeout_s: float = 30.0) -> list[DeadLetter]:
    """Every record of the dead-letter topic (`DEADLETTER + suffix`), in partition and
    offset order."""
    topic = DEADLETTER + suffix
    if topic not in await kafka_admin.cluster_topics(bootstrap):
        return []
    consumer = AIOKafkaConsumer(
        topic,  # subscribed without a group: every partition, its metadata fetched
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=MAX_RECORD_BYTES + 64 * 1024,
    )
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not tps:
            return []
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        found: list[DeadLetter] = []
        remaining = {tp for tp in tps if ends[tp] > 0}
        async with asyncio.timeout(timeout_s):
            while remaining:
                batches = await consumer.getmany(*remaining, timeout_ms=500)
                for tp, records in batches.items():
                    for r in records:
                        if r.offset < ends[tp]:
                            found.append(_letter(r))
                    if records and records[-1].offset + 1 >= ends[tp]:
                        remaining.discard(tp)
        return sorted(found, key=lambda d: (d.partition, d.offset))
    finally:
        await consumer.stop()


def _letter(r: ConsumerRecord) -> DeadLetter:
    return DeadLetter(
        partition=r.partition,
        offset=r.offset,
        at=datetime.fromtimestamp(r.timestamp / 1000, UTC),
        key=r.key.decode(errors="replace") if r.key else "",
        value=r.value or b"",
        headers={k: v.decode(errors="replace") for k, v in r.headers},
    )


def select(
    letters: Iterable[DeadLetter],
    *,
    topic: str | None = None,
    reason: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    refs: Sequence[str] = (),
) -> list[DeadLetter]:
    """The letters matching every filter given: source topic (with or without the
    suffix), a substring of the reason (case-insensitive), a time range, references."""
    out = []
    for d in letters:
        if topic and d.source_topic != topic and not d.source_topic.startswith(topic + "."):
            continue
        if reason and reason.lower() not in d.reason.lower():
            continue
        if since and d.at < since:
            continue
        if until and d.at >= until:
            continue
        if refs and d.ref not in refs:
            continue
        out.append(d)
    return out


async def replay(bootstrap: str, letters: Sequence[DeadLetter], *, rekey: bool = False) -> int:
    """Send each letter's record back to its source topic; returns how many were sent."""
    producer = make_producer(bootstrap, "jsb-deadletter-replay")
    await producer.start()
    sent = 0
    try:
        for d in letters:
            if not d.source_topic:
                continue
            key = (d.subject() or d.key) if rekey else d.key
            await producer.send_and_wait(
                d.source_topic,
                d.value,
                key=key.encode() if key else None,
                headers=[(dl.REPLAYED_FROM, d.ref.encode())],
            )
            sent += 1
    finally:
        await producer.stop()
    return sent
