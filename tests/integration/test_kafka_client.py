"""aiokafka against this broker (Kafka 4.1, KRaft): the client features the
backbone relies on, proven rather than assumed (LOCAL_STACK.md)."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaConnectionError

from shared.adapters.kafka_admin import cluster_topics, topic_configs
from shared.adapters.kafka_clients import make_producer
from shared.adapters.topics import DESIGNATIONS, FEEDBACK, TOPICS
from tests.support.infra import Infra, unique

pytestmark = pytest.mark.integration


async def _consume(infra: Infra, topic: str, group: str, n: int) -> list[bytes]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=infra.kafka,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        got: list[bytes] = []
        while len(got) < n:
            batch = await consumer.getmany(timeout_ms=5000, max_records=n - len(got))
            assert batch, f"no records after {len(got)} of {n}"
            for records in batch.values():
                got.extend(r.value for r in records)
        await consumer.commit()
        return got
    finally:
        await consumer.stop()


async def test_idempotent_produce_group_commit_and_resume(infra: Infra, topic_suffix: str) -> None:
    topic = DESIGNATIONS + topic_suffix
    producer = make_producer(infra.kafka, "test-producer")
    await producer.start()
    try:
        for i in range(10):
            await producer.send_and_wait(topic, f"m{i}".encode(), key=b"subject-1")
    finally:
        await producer.stop()
    group = "g-" + unique()

    first = await _consume(infra, topic, group, 6)
    # A new consumer in the same group resumes after the committed offset.
    rest = await _consume(infra, topic, group, 4)

    assert first + rest == [f"m{i}".encode() for i in range(10)]
    # One key → one partition, in order, no duplicates from the idempotent producer.
    probe = AIOKafkaConsumer(bootstrap_servers=infra.kafka, group_id=group)
    await probe.start()
    try:
        parts = range(3)  # the topic_suffix fixture creates 3 partitions
        committed = {p: await probe.committed(TopicPartition(topic, p)) for p in parts}
    finally:
        await probe.stop()
    assert len(committed) == 3
    assert sum(o or 0 for o in committed.values()) == 10


async def test_backbone_topics_exist_with_their_configs(infra: Infra) -> None:
    names = await cluster_topics(infra.kafka)
    assert {t.name for t in TOPICS} <= names
    described = await topic_configs(infra.kafka, [t.name for t in TOPICS])
    for spec in TOPICS:  # retention forever, status compacted: as the broker has them
        assert spec.configs
        assert {k: described[spec.name].get(k) for k in spec.configs} == spec.configs


def _lose_the_first_produce_answer(producer: AIOKafkaProducer) -> list[str]:
    """The broker appends the first produce request but its answer never reaches the
    producer (a connection that drops at the wrong moment): the producer must send the
    batch again. Returns the produce requests sent, in order."""
    original = producer.client.send
    sent: list[str] = []

    async def send(node_id: int, request: Any, **kwargs: Any) -> Any:
        response = await original(node_id, request, **kwargs)
        if type(request).__name__.startswith("ProduceRequest"):
            sent.append(type(request).__name__)
            if len(sent) == 1:
                raise KafkaConnectionError("the broker's answer was lost")
        return response

    producer.client.send = send  # type: ignore[method-assign]
    return sent


async def _records_in(infra: Infra, topic: str) -> int:
    probe = AIOKafkaConsumer(bootstrap_servers=infra.kafka)
    await probe.start()
    try:
        parts = [TopicPartition(topic, p) for p in range(3)]  # the topic_suffix fixture's
        ends = await probe.end_offsets(parts)
        starts = await probe.beginning_offsets(parts)
    finally:
        await probe.stop()
    return sum(ends[tp] - starts[tp] for tp in parts)


async def test_a_retried_send_is_written_once_by_the_idempotent_producer(
    infra: Infra, topic_suffix: str
) -> None:
    async def send_once_with_a_lost_answer(producer: AIOKafkaProducer, topic: str) -> list[str]:
        # Empty, and each partition's leader answering (ListOffsets goes to the leader):
        # on a freshly made topic the broker may still answer NotLeaderForPartition, a
        # third produce request the count below would take for ours (seen in a full run).
        assert await _records_in(infra, topic) == 0
        await producer.start()
        try:
            sent = _lose_the_first_produce_answer(producer)
            await producer.send_and_wait(topic, b"once", key=b"subject-1")
        finally:
            await producer.stop()
        return sent

    ours = DESIGNATIONS + topic_suffix
    sent = await send_once_with_a_lost_answer(make_producer(infra.kafka, "test-idempotent"), ours)
    assert len(sent) == 2  # the retry happened...
    assert await _records_in(infra, ours) == 1  # ...and the broker kept one copy

    # The control: the same lost answer without idempotence writes the record twice,
    # so the retry above is real and it is idempotence that removed the duplicate.
    plain = AIOKafkaProducer(
        bootstrap_servers=infra.kafka, client_id="test-plain", acks="all", linger_ms=5
    )
    control = FEEDBACK + topic_suffix
    assert len(await send_once_with_a_lost_answer(plain, control)) == 2
    assert await _records_in(infra, control) == 2


def test_a_non_python_client_sees_the_four_topics(infra: Infra) -> None:
    kcat = shutil.which("kcat")
    assert kcat, "kcat is installed by deploy/scripts/tools.sh (make test)"
    out = subprocess.run(
        [kcat, "-b", infra.kafka, "-L", "-J"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    for t in TOPICS:
        assert f'"topic":"{t.name}"' in out.replace(" ", "")
