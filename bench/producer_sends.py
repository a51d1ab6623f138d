"""The CPU of a relay's send, aiokafka's default partitioner against the services' own
(`shared/adapters/partitioner.py`), alternated in one run on the same broker:

    python -m bench.producer_sends [records] [keys] [rounds]

Each round sends `records` records of 700 bytes (default 20,000) keyed by `keys`
subject ids (default 1,000: a court list's subjects, each with ~30 feedback events,
or the check bench's blocked subjects) in batches of 500 as the outbox relay does
(`send` for each, then wait for every acknowledgement), once with each partitioner,
the order swapped every round; the process's CPU seconds (user + system) per send is
the figure, its median over `rounds` (default 3). Also the partitioner alone, per
call, in process, for repeating keys and for keys never seen. Prints one JSON line.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time
import timeit
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner

from shared.adapters import kafka_admin
from shared.adapters.kafka_clients import make_producer
from shared.adapters.partitioner import KeyPartitioner, positive_hash
from shared.adapters.topics import TopicSpec
from tests.support.infra import unique
from tests.support.subjects import new_resident_id
from tests.support.topic_cleanup import delete_topics

BATCH = 500


async def _round(producer: AIOKafkaProducer, topic: str, keys: list[bytes], n: int) -> float:
    value = b"x" * 700
    cpu0 = time.process_time()
    for start in range(0, n, BATCH):
        futures = [
            await producer.send(topic, value=value, key=keys[i % len(keys)])
            for i in range(start, min(n, start + BATCH))
        ]
        await asyncio.gather(*futures)
    return (time.process_time() - cpu0) / n


async def _sends(bootstrap: str, n: int, k: int, rounds: int) -> dict[str, list[float]]:
    topic = "bench-sends." + unique("sends")
    await kafka_admin.ensure_topics(bootstrap, 3, (TopicSpec(topic),))
    keys = [new_resident_id().encode() for _ in range(k)]
    default = make_producer(bootstrap, "bench-default")
    default._partitioner = DefaultPartitioner()  # aiokafka's own, as before
    ours = make_producer(bootstrap, "bench-ours")
    per: dict[str, list[float]] = {"default": [], "memoised": []}
    try:
        await default.start()
        await ours.start()
        await _round(default, topic, keys, BATCH)  # warm-up: metadata, connections
        await _round(ours, topic, keys, BATCH)
        for r in range(rounds):
            order = [("default", default), ("memoised", ours)]
            for name, producer in order if r % 2 == 0 else order[::-1]:
                per[name].append(await _round(producer, topic, keys, n))
    finally:
        await default.stop()
        await ours.stop()
        await delete_topics(bootstrap, [topic])
    return per


def _calls(k: int) -> dict[str, float]:
    """µs per partitioner call: keys repeating (the memo's hits), and keys never seen."""
    repeating = [new_resident_id().encode() for _ in range(k)]
    fresh = [new_resident_id().encode() + str(i).encode() for i in range(50_000)]
    parts = [0, 1, 2]
    out: dict[str, float] = {}
    for name, p in (("default", DefaultPartitioner()), ("memoised", KeyPartitioner())):
        positive_hash.cache_clear()
        seconds = timeit.timeit(lambda p=p: [p(key, parts, parts) for key in repeating], number=50)
        out[f"{name}_repeating_us"] = round(1e6 * seconds / (50 * k), 3)
        seconds = timeit.timeit(lambda p=p: [p(key, parts, parts) for key in fresh], number=1)
        out[f"{name}_unseen_us"] = round(1e6 * seconds / len(fresh), 3)
    return out


def main(n: int = 20_000, k: int = 1_000, rounds: int = 3) -> None:
    bootstrap = os.environ["KAFKA_BOOTSTRAP_SERVERS"]
    per = asyncio.run(_sends(bootstrap, n, k, rounds))
    median = {name: statistics.median(values) for name, values in per.items()}
    result: dict[str, Any] = {
        "records": n,
        "keys": k,
        "rounds": {name: [round(1e6 * v, 1) for v in values] for name, values in per.items()},
        "cpu_us_per_send": {name: round(1e6 * v, 1) for name, v in median.items()},
        "ratio_memoised_to_default": round(median["memoised"] / median["default"], 3),
        "partitioner_call": _calls(k),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:4]))
