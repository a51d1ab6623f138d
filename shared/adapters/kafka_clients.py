"""aiokafka producers and consumers configured the way the backbone needs them."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from shared.adapters.partitioner import KeyPartitioner
from shared.adapters.topics import MAX_RECORD_BYTES

_REQUEST_OVERHEAD = 64 * 1024
"""A produce request holds a record batch's headers besides the record itself."""


def make_producer(bootstrap: str, client_id: str) -> AIOKafkaProducer:
    """An idempotent producer: acks from all in-sync replicas, no duplicates on retry.

    Its partitioner puts each key where Kafka's default (Java) partitioner does, with
    the key's hash memoised (why: shared/adapters/partitioner.py)."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        linger_ms=5,
        request_timeout_ms=15000,
        max_request_size=MAX_RECORD_BYTES + _REQUEST_OVERHEAD,
        partitioner=KeyPartitioner(),
    )


def make_consumer(
    bootstrap: str,
    group_id: str,
    client_id: str,
    *topics: str,
    fetch_min_bytes: int = 1,
    fetch_max_wait_ms: int = 500,
) -> AIOKafkaConsumer:
    """A consumer whose offsets are the application's business: no auto-commit.

    The authoritative offsets live in Postgres beside the effects (see
    `shared.adapters.consumer`); committing to Kafka too is only for lag tooling.
    `fetch_min_bytes`, `fetch_max_wait_ms` (aiokafka's, its defaults): how long the
    broker may hold a fetch to gather more records, for a consumer that pays per batch.
    """
    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        group_id=group_id,
        client_id=client_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        max_poll_records=500,
        session_timeout_ms=10000,
        heartbeat_interval_ms=3000,
        # an oversized record (up to the topics' limit) must reach the consumer to be
        # dead-lettered, not stall the partition
        max_partition_fetch_bytes=MAX_RECORD_BYTES + _REQUEST_OVERHEAD,
        fetch_min_bytes=fetch_min_bytes,
        fetch_max_wait_ms=fetch_max_wait_ms,
    )
