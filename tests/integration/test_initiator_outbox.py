"""Publishing exactly once (issue 5 §3) on the real Kafka and Postgres: a relay that
died between the broker's ack and marking its rows does not publish them again."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import text

from services.initiator import tables
from services.initiator.relay_recovery import mark_already_published
from shared.adapters.db import make_engine
from shared.adapters.outbox import OutboxMessage, enqueue
from shared.adapters.topics import DESIGNATIONS
from shared.domain.events import make_envelope
from shared.domain.lifecycle_events import DesignationExpired
from tests.support.infra import Infra
from tests.support.initiator_app import running_initiator, settings_for
from tests.support.initiator_kafka import read_all

pytestmark = pytest.mark.integration


def envelope_bytes(n: int) -> bytes:
    env = make_envelope(
        DesignationExpired(designation_id=uuid4()),
        subject=f"S{n}",
        source="/initiator/test",
        time=datetime.now(UTC),
    )
    return env.to_json_bytes()


async def test_rows_already_in_the_topic_are_marked_not_resent(
    infra: Infra, topic_suffix: str, schema_suffix: str, tmp_path: Path
) -> None:
    topic = DESIGNATIONS + topic_suffix
    schema = "initiator" + schema_suffix
    engine = make_engine(infra.database_url, schema=schema)
    sent, unsent = envelope_bytes(1), envelope_bytes(2)
    try:
        async with engine.begin() as conn:
            await enqueue(
                conn,
                tables.outbox,
                [OutboxMessage(topic, "S1", sent), OutboxMessage(topic, "S2", unsent)],
            )
        # The crash: the broker acknowledged the first row, the mark never happened.
        producer = AIOKafkaProducer(bootstrap_servers=infra.kafka, enable_idempotence=True)
        await producer.start()
        try:
            await producer.send_and_wait(topic, sent, key=b"S1")
        finally:
            await producer.stop()

        assert await mark_already_published(engine, tables.outbox, infra.kafka, window=500) == 1
        async with engine.connect() as conn:
            marked = (
                await conn.execute(text("SELECT key, published_at IS NOT NULL FROM outbox"))
            ).all()
        assert sorted(tuple(r) for r in marked) == [("S1", True), ("S2", False)]
    finally:
        await engine.dispose()

    # A whole initiator starting on that outbox publishes only the second row.
    settings = settings_for(infra, topic_suffix, schema_suffix, tmp_path)
    async with running_initiator(settings) as run:
        for _ in range(100):
            left = await run.rows("SELECT count(*) AS n FROM outbox WHERE published_at IS NULL")
            if left[0].n == 0:
                break
            await asyncio.sleep(0.1)
    subjects = sorted(v["subject"] for v in await read_all(infra.kafka, topic))
    assert subjects == ["S1", "S2"]  # each once
