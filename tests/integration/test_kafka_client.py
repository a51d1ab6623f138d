"""aiokafka against this broker (Kafka 4.1, KRaft): the client features the
backbone relies on, proven rather than assumed (LOCAL_STACK.md)."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.adapters.kafka_admin import cluster_topics
from shared.adapters.kafka_clients import make_producer
from shared.adapters.topics import DESIGNATIONS, TOPICS
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
