"""A ledger of a test's own: its own topics (fresh suffix), its own migrated schema,
the real service app running in-process (lifespan, consumer, relay) or as a process,
a Kafka producer, and helpers to wait for what flows through."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from fastapi import FastAPI
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from services.ledger import tables
from services.ledger.app import create_app
from services.ledger.settings import LedgerSettings
from shared.adapters import kafka_admin, topics
from shared.adapters.db import make_engine
from shared.adapters.kafka_clients import make_producer
from shared.adapters.migrations import upgrade
from shared.adapters.topics import TOPICS, TopicSpec
from shared.domain.envelope import Envelope
from shared.web.auth import AUDITOR, OPS
from tests.support.infra import Infra, unique
from tests.support.stack import ServiceProcess, free_port

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]],
    ok: Callable[[T], bool],
    timeout_s: float = 30.0,
    every_s: float = 0.1,
) -> T:
    """Poll `probe` until `ok` (without blocking the event loop the ledger runs in)."""
    deadline = time.monotonic() + timeout_s
    last = await probe()
    while not ok(last):
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met in {timeout_s}s; last: {last!r}"[:3000])
        await asyncio.sleep(every_s)
        last = await probe()
    return last


@dataclass
class LedgerTopics:
    suffix: str

    @property
    def designations(self) -> str:
        return topics.DESIGNATIONS + self.suffix

    @property
    def feedback(self) -> str:
        return topics.FEEDBACK + self.suffix

    @property
    def status(self) -> str:
        return topics.STATUS + self.suffix

    @property
    def deadletter(self) -> str:
        return topics.DEADLETTER + self.suffix

    def for_event(self, env: Envelope) -> str:
        return self.feedback if env.type.startswith("jsb.feedback.") else self.designations


async def make_topics(infra: Infra) -> LedgerTopics:
    suffix = "." + unique("led")
    await kafka_admin.wait_until_ready(infra.kafka, attempts=20)
    await kafka_admin.ensure_topics(
        infra.kafka, 3, tuple(TopicSpec(t.name + suffix, t.configs) for t in TOPICS)
    )
    return LedgerTopics(suffix)


async def make_schema(infra: Infra) -> str:
    schema = "ledger_" + unique()
    await asyncio.to_thread(
        upgrade, "ledger", url=infra.admin_url, schema=schema, role=infra.service_role
    )
    return schema


@asynccontextmanager
async def fresh_engine(infra: Infra, pool_size: int = 10) -> AsyncIterator[AsyncEngine]:
    """An engine on a fresh ledger schema of its own, dropped afterwards."""
    schema = await make_schema(infra)
    engine = make_engine(infra.database_url, schema=schema, pool_size=pool_size)
    try:
        yield engine
    finally:
        await engine.dispose()
        await drop_schema(infra, schema)


async def drop_schema(infra: Infra, schema: str) -> None:
    engine = create_async_engine(infra.admin_url)
    async with engine.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    await engine.dispose()


class Producer:
    def __init__(self, infra: Infra, topics_: LedgerTopics) -> None:
        self._producer = make_producer(infra.kafka, "ledger-tests")
        self.topics = topics_

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def send(self, envelopes: Sequence[Envelope]) -> None:
        futures = [
            await self._producer.send(
                self.topics.for_event(env), env.to_json_bytes(), key=env.subject.encode()
            )
            for env in envelopes
        ]
        await asyncio.gather(*futures)

    async def send_raw(self, topic: str, value: bytes, key: bytes = b"poison") -> None:
        await self._producer.send_and_wait(topic, value, key=key)


@dataclass
class Ledger:
    """One ledger: its topics, schema, tokens and database handles."""

    infra: Infra
    topics: LedgerTopics
    schema: str
    tokens: dict[str, str]
    tokens_file: Path
    engine: AsyncEngine
    """As the service role (search_path = the schema)."""
    admin: AsyncEngine
    """As the admin role (owner of the schema: may disable the trigger)."""
    producer: Producer
    app: FastAPI | None = None

    def settings(self) -> LedgerSettings:
        return LedgerSettings(
            db_schema=self.schema,
            group_id="jsb.ledger" + self.topics.suffix,
            topic_suffix=self.topics.suffix,
            tokens_file=self.tokens_file,
            database_url=self.infra.database_url,
            kafka_bootstrap_servers=self.infra.kafka,
        )

    def client(self, as_: str | None = None) -> httpx.AsyncClient:
        assert self.app is not None, "the in-process app is not running"
        headers = {"Authorization": f"Bearer {self.tokens[as_]}"} if as_ else {}
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://ledger", headers=headers
        )

    async def get(self, path: str, as_: str | None = "auditor", **params: Any) -> Any:
        async with self.client(as_) as c:
            r = await c.get(path, params=params)
        assert r.status_code == 200, r.text
        return r.json()

    async def count(self, table: Any = tables.events) -> int:
        async with self.engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())

    async def wait_events(self, n: int, timeout_s: float = 30.0) -> int:
        return await eventually(self.count, lambda c: c >= n, timeout_s)

    async def end_offsets(self) -> dict[tuple[str, int], int]:
        """The end offsets of the two topics the ledger consumes."""
        consumer = AIOKafkaConsumer(bootstrap_servers=self.infra.kafka)
        await consumer.start()
        try:
            tps = [
                TopicPartition(topic, p)
                for topic in (self.topics.designations, self.topics.feedback)
                for p in (await _partitions(consumer, topic))
            ]
            ends = await consumer.end_offsets(tps)
            return {(tp.topic, tp.partition): o for tp, o in ends.items()}
        finally:
            await consumer.stop()

    async def stored_offsets(self) -> dict[tuple[str, int], int]:
        o = tables.consumer_offsets
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(o.c.topic, o.c.partition, o.c.next_offset))
            return {(r.topic, r.partition): r.next_offset for r in rows}

    async def wait_caught_up(self, timeout_s: float = 30.0) -> None:
        """Until the ledger has applied everything produced so far (its offsets, stored
        in Postgres beside the effects, reach the topics' ends) and projected it (the
        projection queue is empty: services/ledger/projector.py)."""
        await self.wait_caught_up_offsets(timeout_s)
        await self.wait_projected(timeout_s)

    async def wait_caught_up_offsets(self, timeout_s: float = 30.0) -> None:
        """Until the ledger's stored offsets reach the topics' ends (ingested, maybe
        not projected yet)."""
        ends = {k: v for k, v in (await self.end_offsets()).items() if v > 0}

        def done(stored: dict[tuple[str, int], int]) -> bool:
            return all(stored.get(k, 0) >= v for k, v in ends.items())

        await eventually(self.stored_offsets, done, timeout_s)

    async def wait_projected(self, timeout_s: float = 30.0) -> None:
        """Until no subject waits for the projector (its queue is empty)."""
        await eventually(lambda: self.count(tables.projection_queue), lambda n: n == 0, timeout_s)

    def process(self, workdir: Path, **env: str) -> ServiceProcess:
        """The ledger as a process of its own (for SIGKILL), on this ledger's topics,
        schema and tokens."""
        import os

        environ = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": self.infra.kafka,
            "DATABASE_URL": self.infra.database_url,
            "JSB_TOKENS_FILE": str(self.tokens_file),
            "JSB_TOPIC_SUFFIX": self.topics.suffix,
            "JSB_LEDGER_DB_SCHEMA": self.schema,
            "JSB_LEDGER_GROUP_ID": "jsb.ledger" + self.topics.suffix,
            **env,
        }
        return ServiceProcess("ledger", free_port(), environ, workdir / "ledger.log")


@asynccontextmanager
async def ledger(infra: Infra, workdir: Path, *, run_app: bool = True) -> AsyncIterator[Ledger]:
    """A fresh ledger; with `run_app`, the service app runs in-process meanwhile."""
    topics_ = await make_topics(infra)
    schema = await make_schema(infra)
    from shared.cli.stack_cmd import department_codes

    tokens = {name: secrets.token_urlsafe(12) for name in (*department_codes(), AUDITOR, OPS)}
    tokens_file = workdir / f"tokens-{schema}.json"
    tokens_file.write_text(json.dumps(tokens))
    producer = Producer(infra, topics_)
    await producer.start()
    led = Ledger(
        infra,
        topics_,
        schema,
        tokens,
        tokens_file,
        make_engine(infra.database_url, schema=schema),
        make_engine(infra.admin_url, schema=schema),
        producer,
    )
    try:
        if run_app:
            led.app = create_app(led.settings())
            async with led.app.router.lifespan_context(led.app):
                yield led
        else:
            yield led
    finally:
        await producer.stop()
        await led.engine.dispose()
        await led.admin.dispose()
        await drop_schema(infra, schema)


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    parts = consumer.partitions_for_topic(topic)
    if not parts:
        await consumer._client.force_metadata_update()
        parts = consumer.partitions_for_topic(topic)
    return set(parts or ())


async def read_topic(
    infra: Infra, topic: str, at_least: int = 0, timeout_s: float = 30.0
) -> list[Any]:
    """Every record of a topic (all partitions, from the beginning, up to its end when
    read), waiting until there are `at_least`."""
    deadline = time.monotonic() + timeout_s
    while True:
        consumer = AIOKafkaConsumer(bootstrap_servers=infra.kafka, enable_auto_commit=False)
        await consumer.start()
        try:
            tps = [TopicPartition(topic, p) for p in await _partitions(consumer, topic)]
            consumer.assign(tps)
            await consumer.seek_to_beginning()
            ends = await consumer.end_offsets(tps)
            got: list[Any] = []
            while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
                assert time.monotonic() < deadline, f"{topic}: not read to its end in time"
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    got.extend(records)
        finally:
            await consumer.stop()
        if len(got) >= at_least or time.monotonic() > deadline:
            return got
        await asyncio.sleep(0.3)
