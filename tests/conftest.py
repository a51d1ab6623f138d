"""Fixtures for the real Kafka and Postgres. Each test owns its data: its own
topic suffix, its own schemas, its own subjects."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator

import pytest

from shared.adapters import kafka_admin
from shared.adapters.topics import TOPICS, TopicSpec
from tests.support.infra import ISSUED, Infra, discover, unique
from tests.support.topic_cleanup import delete_issued


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    with discover() as found:
        yield found
        if ISSUED and not os.environ.get("JSB_KEEP_TEST_DATA"):
            asyncio.run(delete_issued(found.kafka, ISSUED))


@pytest.fixture
async def topic_suffix(infra: Infra) -> str:
    """A suffix appended to every topic name; the four topics exist with it."""
    suffix = "." + unique()
    await kafka_admin.wait_until_ready(infra.kafka, attempts=20)
    await kafka_admin.ensure_topics(
        infra.kafka, 3, tuple(TopicSpec(t.name + suffix, t.configs) for t in TOPICS)
    )
    return suffix


@pytest.fixture
async def schema_suffix(infra: Infra) -> AsyncIterator[str]:
    """Fresh schemas `<service>_<suffix>` for the four services, migrated to head."""
    from shared.adapters.migrations import upgrade_all

    suffix = "_" + unique()
    await asyncio.to_thread(
        upgrade_all, url=infra.admin_url, schema_suffix=suffix, role=infra.service_role
    )
    yield suffix
    if not os.environ.get("JSB_KEEP_TEST_DATA"):
        await asyncio.to_thread(drop_schemas, infra.admin_url, suffix)


def drop_schemas(url: str, suffix: str) -> None:
    from shared.adapters.migrations import SERVICES

    async def run() -> None:
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import create_async_engine

        engine = create_async_engine(url)
        async with engine.begin() as conn:
            for service in SERVICES:
                await conn.execute(text(f'DROP SCHEMA IF EXISTS "{service}{suffix}" CASCADE'))
        await engine.dispose()

    asyncio.run(run())
