"""Kafka administration: readiness probe and idempotent topic creation."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from shared.adapters.topics import TOPICS, TopicSpec

log = logging.getLogger(__name__)


async def cluster_topics(bootstrap: str, timeout_s: float = 5.0) -> set[str]:
    """Topic names the cluster reports; raises when no broker answers a metadata request."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=int(timeout_s * 1000)
    )
    try:
        await asyncio.wait_for(admin.start(), timeout_s)
        return set(await asyncio.wait_for(admin.list_topics(), timeout_s))
    finally:
        await admin.close()


async def topic_configs(
    bootstrap: str, names: list[str], timeout_s: float = 5.0
) -> dict[str, dict[str, str]]:
    """Each topic's configuration as the broker reports it (defaults included)."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=int(timeout_s * 1000)
    )
    try:
        await asyncio.wait_for(admin.start(), timeout_s)
        responses = await asyncio.wait_for(
            admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, n) for n in names]),
            timeout_s,
        )
    finally:
        await admin.close()
    out: dict[str, dict[str, str]] = {}
    for response in responses:
        for _code, _message, _type, name, entries in response.resources:
            out[name] = {entry[0]: entry[1] for entry in entries}
    return out


async def ensure_topics(
    bootstrap: str, partitions: int, specs: tuple[TopicSpec, ...] = TOPICS
) -> list[str]:
    """Create the missing topics and bring the configuration of existing ones to their
    spec (a limit added later, such as `max.message.bytes`, reaches topics created
    before it); returns the names created. Partitions are never changed."""
    existing = await cluster_topics(bootstrap)
    await _converge_configs(bootstrap, [s for s in specs if s.name in existing])
    missing = [s for s in specs if s.name not in existing]
    if not missing:
        return []
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        new = [
            NewTopic(
                name=s.name,
                num_partitions=partitions,
                replication_factor=1,
                topic_configs=s.configs,
            )
            for s in missing
        ]
        with contextlib.suppress(TopicAlreadyExistsError):  # a concurrent creator won
            await admin.create_topics(new, validate_only=False)
    finally:
        await admin.close()
    return [s.name for s in missing]


async def _converge_configs(bootstrap: str, specs: list[TopicSpec]) -> None:
    if not specs:
        return
    described = await topic_configs(bootstrap, [s.name for s in specs])
    stale = [
        s for s in specs if any(described.get(s.name, {}).get(k) != v for k, v in s.configs.items())
    ]
    if not stale:
        return
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        # AlterConfigs sets a topic's whole dynamic configuration: the spec is all of it
        await admin.alter_configs(
            [ConfigResource(ConfigResourceType.TOPIC, s.name, configs=s.configs) for s in stale]
        )
        log.info("topic configuration brought to spec: %s", ", ".join(s.name for s in stale))
    finally:
        await admin.close()


async def wait_until_ready(bootstrap: str, attempts: int = 60, delay_s: float = 0.5) -> None:
    last: Exception | None = None
    for _ in range(attempts):
        try:
            await cluster_topics(bootstrap, timeout_s=3.0)
            return
        except (KafkaError, OSError, TimeoutError) as exc:
            last = exc
            await asyncio.sleep(delay_s)
    raise RuntimeError(f"Kafka at {bootstrap} not ready: {last!r}")
