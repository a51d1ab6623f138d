"""The Kafka parts' own limit on this broker, and the project's Python clients' share
of it: the baseline for the pipeline benchmark (docs/benchmarks.md).

Baseline: Kafka's `ProducerPerformance` and `ConsumerPerformance` (the `kafka-tools`
jar resolved by deploy/kafka/pom.xml, run with the machine's Java) — 700-byte records
(a court debtor's `designation.issued` is ~700 bytes to 30 kB; feedback ~700 bytes),
`acks=all`, idempotent, on a fresh 3-partition topic. Measured against it, in the same
run and on the same kind of topic: the services' own aiokafka producer
(`shared.adapters.kafka_clients.make_producer`, what every outbox relay publishes with)
and consumer (`make_consumer`, what every transactional consumer reads with), at two
sizes 10x apart. Peak RSS of each process (the JVM's and this test process's).
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import pytest

from bench.kafka_perf import consumer_perf, producer_perf, tools_resolved
from bench.servers import peak_rss_mb
from shared.adapters import kafka_admin
from shared.adapters.kafka_clients import make_consumer, make_producer
from shared.adapters.topics import TopicSpec
from tests.bench.report import record
from tests.support.infra import Infra, unique

pytestmark = pytest.mark.bench

SIZES = tuple(int(s) for s in os.environ.get("JSB_BENCH_KAFKA_RECORDS", "20000,200000").split(","))
RECORD_BYTES = 700


async def _aiokafka_produce(bootstrap: str, topic: str, n: int) -> float:
    producer = make_producer(bootstrap, "bench-producer")
    await producer.start()
    try:
        value = b"x" * RECORD_BYTES
        started = time.perf_counter()
        pending = []
        for i in range(n):
            pending.append(await producer.send(topic, value, key=str(i % 1000).encode()))
            if len(pending) >= 5000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
        return n / (time.perf_counter() - started)
    finally:
        await producer.stop()


async def _aiokafka_consume(bootstrap: str, topic: str, n: int) -> float:
    consumer = make_consumer(bootstrap, unique("bench"), "bench-consumer", topic)
    await consumer.start()
    try:
        seen = 0
        started = None
        while seen < n:
            batch = await consumer.getmany(timeout_ms=1000, max_records=5000)
            if started is None and batch:
                started = time.perf_counter()
            seen += sum(len(records) for records in batch.values())
        assert started is not None
        return seen / (time.perf_counter() - started)
    finally:
        await consumer.stop()


def test_python_clients_against_kafkas_own_performance_tools(infra: Infra) -> None:
    if not tools_resolved():
        pytest.fail("kafka-tools not resolved: run deploy/scripts/kafka.sh jars")
    results: dict[str, Any] = {"record_bytes": RECORD_BYTES, "sizes": {}}
    for n in SIZES:
        ours_topic, java_topic = f"bench.py.{unique()}", f"bench.java.{unique()}"
        asyncio.run(
            kafka_admin.ensure_topics(
                infra.kafka, 3, (TopicSpec(ours_topic, {}), TopicSpec(java_topic, {}))
            )
        )
        java_p = producer_perf(infra.kafka, java_topic, n, RECORD_BYTES)
        java_c = consumer_perf(infra.kafka, java_topic, n)
        ours_p = asyncio.run(_aiokafka_produce(infra.kafka, ours_topic, n))
        ours_c = asyncio.run(_aiokafka_consume(infra.kafka, ours_topic, n))
        results["sizes"][str(n)] = {
            "producer_perf": java_p,
            "consumer_perf": java_c,
            "aiokafka_producer_per_s": round(ours_p, 1),
            "aiokafka_consumer_per_s": round(ours_c, 1),
            "ratio_producer": round(ours_p / java_p["records_per_s"], 3),
            "ratio_consumer": round(ours_c / java_c["records_per_s"], 3),
            "python_peak_rss_mb": round(peak_rss_mb(os.getpid()), 1),
        }
    record("kafka", results)
