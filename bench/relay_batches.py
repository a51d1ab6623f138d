"""The CPU of a relay's sends, one `send` per record (the outbox relay's way) against a
batch per partition (aiokafka's `create_batch` / `send_batch`), alternated in one run on
the same broker: `python -m bench.relay_batches [records] [rounds]`.

Each round sends `records` records of 700 bytes (default 10,000) with two headers, keyed
by 1,000 USCCs, in rounds of 100 as the relay sends a check load's interceptions (every
acknowledgement awaited before the next), once each way, the order swapped every round;
the process's CPU per record, the median over `rounds` (default 4). Tried in session 9
and not kept (docs/benchmarks.md, "CPU per check: session 9"): 0.81x the CPU per record.
A third way, `relay`, is the outbox relay's own `send_rows` (a batch per partition since
session 10: docs/benchmarks.md, "The responder and the relays (session 10)"); the three
ways take turns in a rotating order.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import AIOKafkaProducer

from shared.adapters import kafka_admin
from shared.adapters.kafka_clients import make_producer
from shared.adapters.outbox import send_rows
from shared.adapters.topics import TopicSpec
from tests.support.infra import unique
from tests.support.subjects import new_uscc
from tests.support.topic_cleanup import delete_topics

ROUND = 100
HEADERS = [("jsb-event-type", b"feedback.intercepted"), ("jsb-correlation-id", b"0" * 32)]

Way = Callable[[AIOKafkaProducer, str, list[bytes], bytes, int], Awaitable[float]]


async def per_record(
    producer: AIOKafkaProducer, topic: str, keys: list[bytes], value: bytes, n: int
) -> float:
    cpu0 = time.process_time()
    for start in range(0, n, ROUND):
        futures = [
            await producer.send(topic, value=value, key=keys[i % len(keys)], headers=HEADERS)
            for i in range(start, min(n, start + ROUND))
        ]
        await asyncio.gather(*futures)
    return 1e6 * (time.process_time() - cpu0) / n


async def per_partition(
    producer: AIOKafkaProducer, topic: str, keys: list[bytes], value: bytes, n: int
) -> float:
    partitioner: Any = producer._partitioner  # the services' own (kafka_clients.py)
    cpu0 = time.process_time()
    for start in range(0, n, ROUND):
        partitions = sorted(await producer.partitions_for(topic))
        by: dict[int, list[bytes]] = {}
        for i in range(start, min(n, start + ROUND)):
            key = keys[i % len(keys)]
            by.setdefault(partitioner(key, partitions, partitions), []).append(key)
        futures = []
        for partition, in_it in by.items():
            batch = producer.create_batch()
            for key in in_it:
                if batch.append(key=key, value=value, timestamp=None, headers=HEADERS) is None:
                    futures.append(await producer.send_batch(batch, topic, partition=partition))
                    batch = producer.create_batch()
                    batch.append(key=key, value=value, timestamp=None, headers=HEADERS)
            futures.append(await producer.send_batch(batch, topic, partition=partition))
        await asyncio.gather(*futures)
    return 1e6 * (time.process_time() - cpu0) / n


async def relay(
    producer: AIOKafkaProducer, topic: str, keys: list[bytes], value: bytes, n: int
) -> float:
    """The relay's own `send_rows` (shared/adapters/outbox.py), on rows as it reads them."""
    headers = {k: v.decode() for k, v in HEADERS}
    rows = [
        {"id": i, "topic": topic, "key": keys[i % len(keys)].decode(), "value": value}
        for i in range(n)
    ]
    cpu0 = time.process_time()
    for start in range(0, n, ROUND):
        in_round = rows[start : start + ROUND]
        await send_rows(producer, in_round, [headers] * len(in_round))
    return 1e6 * (time.process_time() - cpu0) / n


async def _main(n: int, rounds: int) -> dict[str, Any]:
    bootstrap = os.environ["KAFKA_BOOTSTRAP_SERVERS"]
    topic = "bench-relay-batches." + unique("rb")
    await kafka_admin.ensure_topics(bootstrap, 3, (TopicSpec(topic),))
    keys = [new_uscc().encode() for _ in range(1000)]
    value = b"x" * 700
    producer = make_producer(bootstrap, "bench-relay-batches")
    await producer.start()
    ways: list[tuple[str, Way]] = [
        ("per_record", per_record),
        ("per_partition", per_partition),
        ("relay", relay),
    ]
    runs: dict[str, list[float]] = {name: [] for name, _ in ways}
    try:
        for _, way in ways:  # warm-up
            await way(producer, topic, keys, value, 2000)
        for r in range(rounds):
            for name, way in ways[r % 3 :] + ways[: r % 3]:
                runs[name].append(round(await way(producer, topic, keys, value, n), 2))
    finally:
        await producer.stop()
        await delete_topics(bootstrap, [topic])
    medians = {name: statistics.median(v) for name, v in runs.items()}
    return {
        "records": n,
        "us_per_record": runs,
        "medians": medians,
        "per_partition_over_per_record": round(medians["per_partition"] / medians["per_record"], 3),
        "relay_over_per_record": round(medians["relay"] / medians["per_record"], 3),
    }


if __name__ == "__main__":
    args = sys.argv[1:]
    print(
        json.dumps(
            asyncio.run(
                _main(int(args[0]) if args else 10_000, int(args[1]) if len(args) > 1 else 4)
            )
        )
    )
