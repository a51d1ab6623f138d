"""A stack of its own for a load test: the four services on fresh topics and schemas,
stopped (its schemas dropped, its topics deleted) afterwards — so the load (10,000 designations and
their half a million feedback events) never slows the session's shared stack."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from shared.adapters import kafka_admin
from shared.adapters.migrations import upgrade_all
from shared.adapters.topics import TOPICS, TopicSpec
from shared.web.auth import AUDITOR, OPS
from tests.conftest import drop_schemas
from tests.support.infra import Infra, unique
from tests.support.stack import Stack, start_stack


@contextmanager
def own_stack(
    infra: Infra, workdir: Path, ready_timeout_s: float = 60.0, **env: str
) -> Iterator[Stack]:
    from shared.cli.stack_cmd import department_codes

    topic_suffix = "." + unique("load")
    schema_suffix = "_" + unique("load")
    asyncio.run(
        kafka_admin.ensure_topics(
            infra.kafka, 3, tuple(TopicSpec(t.name + topic_suffix, t.configs) for t in TOPICS)
        )
    )
    upgrade_all(url=infra.admin_url, schema_suffix=schema_suffix, role=infra.service_role)
    tokens = {n: secrets.token_urlsafe(16) for n in [*department_codes(), AUDITOR, OPS]}
    running = start_stack(infra, topic_suffix, schema_suffix, tokens, workdir, env, ready_timeout_s)
    try:
        yield running
    finally:
        running.stop()
        drop_schemas(infra.admin_url, schema_suffix)
        # Half a million messages kept forever otherwise: these topics are the load's own.
        asyncio.run(_delete_topics(infra.kafka, [t.name + topic_suffix for t in TOPICS]))


async def _delete_topics(bootstrap: str, names: list[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.delete_topics(names)
    finally:
        await admin.close()
