"""The outbox relay (shared/adapters/outbox.py) on the real Postgres and Kafka: every
committed row published once, in id order, with its key, value and headers byte for
byte; marked published; dead letters counted by consumer; rows enqueued while the
relay runs published by its loop; a transaction still open is not published; a round
whose acknowledgements stall rolls back and a new producer publishes it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import MessageSizeTooLargeError, OutOfOrderSequenceNumber
from prometheus_client import CollectorRegistry
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.initiator.relay_recovery import topic_partitions
from services.responder import tables
from shared.adapters.db import make_engine
from shared.adapters.observability import PipelineMetrics
from shared.adapters.outbox import OutboxMessage, OutboxRelay, enqueue
from shared.adapters.runtime import ServiceRuntime
from shared.adapters.settings import ServiceSettings
from shared.adapters.topics import DEADLETTER, FEEDBACK
from tests.support.infra import Infra

pytestmark = pytest.mark.integration


@pytest.fixture
async def engine(infra: Infra, schema_suffix: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(infra.database_url, schema="responder" + schema_suffix)
    yield engine
    await engine.dispose()


@pytest.fixture
async def producer(infra: Infra) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka, enable_idempotence=True, acks="all")
    await producer.start()
    yield producer
    await producer.stop()


async def _read(bootstrap: str, topic: str, n: int) -> list[Any]:
    """The first `n` records of the topic's partitions (in partition order)."""
    partitions = await topic_partitions(bootstrap, {topic})
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        out: list[Any] = []
        while len(out) < n:
            batch = await consumer.getmany(timeout_ms=5000)
            if not batch:
                break
            for records in batch.values():
                out.extend(records)
        return out
    finally:
        await consumer.stop()


async def _unpublished(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        found = await conn.scalar(text("SELECT count(*) FROM outbox WHERE published_at IS NULL"))
    return int(found or 0)


async def _published(relay: OutboxRelay, n: int) -> None:
    for _ in range(400):
        if relay.published >= n:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{relay.published} published, {n} wanted")


def _message(n: int, topic: str, **headers: str) -> OutboxMessage:
    return OutboxMessage(topic, "subject-1", b'{"n": %d, "\xc3\xa9": "\x00\xff"}' % n, headers)


async def test_committed_rows_are_published_once_in_order_byte_for_byte(
    infra: Infra, topic_suffix: str, engine: AsyncEngine, producer: AIOKafkaProducer
) -> None:
    feedback, dead = FEEDBACK + topic_suffix, DEADLETTER + topic_suffix
    sent = [_message(n, feedback, h=str(n), other="é") for n in range(5)]
    async with engine.begin() as conn:
        await enqueue(conn, tables.outbox, sent[:3])
    async with engine.begin() as conn:
        await enqueue(conn, tables.outbox, [*sent[3:], _message(9, dead, **{"jsb-consumer": "c1"})])
    metrics = PipelineMetrics(CollectorRegistry())
    relay = OutboxRelay(engine, tables.outbox, producer, batch_size=4, metrics=metrics)

    assert await relay.publish_once() == 4  # the batch size
    assert await relay.publish_once() == 2
    assert await relay.publish_once() == 0
    assert relay.published == 6
    assert await _unpublished(engine) == 0
    assert await relay.backlog() == 0
    assert metrics.published._value.get() == 6
    assert metrics.dead_letters.labels("c1")._value.get() == 1

    records = await _read(infra.kafka, feedback, len(sent))
    assert [(r.key, r.value, list(r.headers)) for r in records] == [
        (b"subject-1", m.value, [(k, v.encode()) for k, v in m.headers.items()]) for m in sent
    ]  # one key: one partition, in id order
    [dead_letter] = await _read(infra.kafka, dead, 1)
    assert dead_letter.value == _message(9, dead).value


async def test_the_loop_publishes_what_commits_while_it_runs_and_not_an_open_transaction(
    infra: Infra, topic_suffix: str, engine: AsyncEngine, producer: AIOKafkaProducer
) -> None:
    topic = FEEDBACK + topic_suffix
    relay = OutboxRelay(engine, tables.outbox, producer, idle_sleep_s=0.01)
    stop = asyncio.Event()
    running = asyncio.create_task(relay.run(stop))
    try:
        async with engine.begin() as open_tx:
            await enqueue(open_tx, tables.outbox, [_message(1, topic)])
            async with engine.begin() as conn:
                await enqueue(conn, tables.outbox, [_message(2, topic)])
            await _published(relay, 1)
            await asyncio.sleep(0.2)
            assert relay.published == 1  # the open transaction's row is not visible
        await _published(relay, 2)
    finally:
        stop.set()
        await asyncio.wait_for(running, 10)
    assert [r.value for r in await _read(infra.kafka, topic, 2)] == [
        _message(2, topic).value,
        _message(1, topic).value,
    ]
    assert await _unpublished(engine) == 0


class _Wrapped:
    """The real producer (its metadata, partitioner and batches), whose `send_batch` a
    test replaces: what the relay calls besides it is the producer's own."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self.producer = producer
        self.sent = 0
        """Records handed to `send_batch`."""
        self.batches: list[tuple[str, int, int]] = []
        """(topic, partition, records) of each batch handed over, in order."""

    def __getattr__(self, name: str) -> Any:
        return getattr(self.producer, name)

    def _count(self, batch: Any, topic: str, partition: int) -> None:
        self.sent += batch.record_count()
        self.batches.append((topic, partition, batch.record_count()))


class _Acked(_Wrapped):
    """A producer whose batches are acknowledged 20 ms later (a broker's round trip),
    without reaching the broker."""

    async def send_batch(self, batch: Any, topic: str, *, partition: int) -> asyncio.Future[Any]:
        self._count(batch, topic, partition)
        loop = asyncio.get_running_loop()
        done: asyncio.Future[Any] = loop.create_future()
        loop.call_later(0.02, done.set_result, None)
        return done


async def test_rows_that_come_while_the_loop_works_go_in_few_rounds(
    topic_suffix: str, engine: AsyncEngine, producer: AIOKafkaProducer
) -> None:
    """A round of less than a batch is followed by the idle wait: rows committed one by
    one for ~2 s go in about one round per wait (0.5 s), not in rounds taken back to
    back with a few rows each (before: a round every ~20 ms, the acknowledgement's wait)."""
    topic = FEEDBACK + topic_suffix
    acked = _Acked(producer)
    relay = OutboxRelay(engine, tables.outbox, acked, batch_size=500, idle_sleep_s=0.5)
    stop = asyncio.Event()
    running = asyncio.create_task(relay.run(stop))
    n = 0
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        while loop.time() - started < 2.0:
            n += 1
            async with engine.begin() as conn:
                await enqueue(conn, tables.outbox, [_message(n, topic)])
            await asyncio.sleep(0.001)
        await _published(relay, n)
    finally:
        stop.set()
        await asyncio.wait_for(running, 10)
    elapsed = loop.time() - started
    assert n >= 40
    assert acked.sent == relay.published == n
    assert relay.rounds <= elapsed / 0.5 + 2, (relay.rounds, n, elapsed)
    assert await _unpublished(engine) == 0


class _Held(_Wrapped):
    """The real producer, whose batches wait until released (a round held half-way)."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        super().__init__(producer)
        self.sending, self.release = asyncio.Event(), asyncio.Event()

    async def send_batch(self, batch: Any, topic: str, *, partition: int) -> Any:
        self.sending.set()
        await self.release.wait()
        self._count(batch, topic, partition)
        return await self.producer.send_batch(batch, topic, partition=partition)


async def test_a_round_cancelled_half_way_leaves_its_rows_to_the_next(
    infra: Infra, topic_suffix: str, engine: AsyncEngine, producer: AIOKafkaProducer
) -> None:
    topic = FEEDBACK + topic_suffix
    async with engine.begin() as conn:
        await enqueue(conn, tables.outbox, [_message(1, topic), _message(2, topic)])
    held = _Held(producer)
    relay = OutboxRelay(engine, tables.outbox, held)
    stop = asyncio.Event()
    running = asyncio.create_task(relay.run(stop))
    await asyncio.wait_for(held.sending.wait(), 20)  # inside the round's transaction
    running.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await running
    assert relay.published == 0
    assert await _unpublished(engine) == 2
    async with engine.connect() as conn:  # whatever connection the pool hands out next
        driver = (await conn.get_raw_connection()).driver_connection
        assert driver is not None
        assert not driver.is_in_transaction()

    after = OutboxRelay(engine, tables.outbox, producer)
    assert await asyncio.wait_for(after.publish_once(), 20) == 2  # no lock left behind
    assert [r.value for r in await _read(infra.kafka, topic, 2)] == [
        _message(1, topic).value,
        _message(2, topic).value,
    ]


def _renewing_to(producer: AIOKafkaProducer) -> tuple[list[asyncio.Event], Any]:
    """A `renew` that hands the relay `producer`, and the list of its calls."""
    renewed: list[asyncio.Event] = []

    async def renew(stop: asyncio.Event) -> AIOKafkaProducer:
        renewed.append(stop)
        return producer

    return renewed, renew


async def _run_until_published(relay: OutboxRelay, n: int) -> None:
    stop = asyncio.Event()
    running = asyncio.create_task(relay.run(stop))
    try:
        await _published(relay, n)
    finally:
        stop.set()
        await asyncio.wait_for(running, 10)


class _Stalled(_Wrapped):
    """A producer whose batches are taken but never acknowledged, and whose stop waits
    for them for ever: what an idempotent aiokafka producer did after a connection error
    (aiokafka issue 1101; the ledger's relay published nothing for minutes). Its
    metadata and batches are the real producer's (`None`: the runtime's test, which
    only stops it)."""

    def __init__(self, producer: AIOKafkaProducer | None = None) -> None:
        super().__init__(producer)
        self.stopping = asyncio.Event()

    async def send_batch(self, batch: Any, topic: str, *, partition: int) -> asyncio.Future[Any]:
        self._count(batch, topic, partition)
        return asyncio.get_running_loop().create_future()  # never resolved

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        self.stopping.set()
        await asyncio.Event().wait()  # waits for the sends that never end


async def test_a_round_whose_acks_stall_rolls_back_and_a_new_producer_publishes_it(
    infra: Infra, topic_suffix: str, engine: AsyncEngine, producer: AIOKafkaProducer
) -> None:
    topic = FEEDBACK + topic_suffix
    async with engine.begin() as conn:
        await enqueue(conn, tables.outbox, [_message(1, topic), _message(2, topic)])
    stalled = _Stalled(producer)
    renewed, renew = _renewing_to(producer)

    metrics = PipelineMetrics(CollectorRegistry())
    relay = OutboxRelay(
        engine,
        tables.outbox,
        stalled,
        ack_timeout_s=0.3,
        renew=renew,
        metrics=metrics,
        idle_sleep_s=0.01,
    )
    await _run_until_published(relay, 2)  # before the fix: waited on the stalled sends for ever
    assert stalled.sent == 2  # the stalled round sent both rows, then rolled back
    assert len(renewed) == 1
    assert metrics.producer_renewals._value.get() == 1
    assert await _unpublished(engine) == 0
    assert [r.value for r in await _read(infra.kafka, topic, 2)] == [
        _message(1, topic).value,
        _message(2, topic).value,
    ]


async def test_the_runtime_renews_a_producer_whose_stop_hangs(
    infra: Infra, topic_suffix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stalled producer's stop is given a bound, then a new producer is started and
    kept as the runtime's producer (the one a shutdown stops)."""
    monkeypatch.setattr("shared.adapters.runtime.PRODUCER_STOP_S", 0.2)
    app = SimpleNamespace(state=SimpleNamespace(metrics=CollectorRegistry()))
    settings: Any = SimpleNamespace(kafka_bootstrap_servers=infra.kafka)
    engine: Any = None  # the producer's renewal touches no database
    rt = ServiceRuntime(app, settings, engine, "jsb-test-renew")
    stalled = _Stalled()
    rt.producer = stalled
    fresh = await asyncio.wait_for(rt.renew_producer(asyncio.Event()), 30)
    try:
        assert stalled.stopping.is_set()
        assert fresh is rt.producer
        assert fresh is not stalled
        await fresh.send_and_wait(FEEDBACK + topic_suffix, b"x")  # started and working
    finally:
        await fresh.stop()


class _OutOfSequence(_Wrapped):
    """A producer that has failed for good: every batch is refused with
    `OutOfOrderSequenceNumber`, as the responder's sends were after a broker restart."""

    async def send_batch(self, batch: Any, topic: str, *, partition: int) -> asyncio.Future[Any]:
        self._count(batch, topic, partition)
        failed = asyncio.get_running_loop().create_future()
        failed.set_exception(OutOfOrderSequenceNumber())
        return failed


async def test_a_producer_failed_for_good_is_replaced_and_the_rows_published(
    infra: Infra, topic_suffix: str, engine: AsyncEngine, producer: AIOKafkaProducer
) -> None:
    topic = FEEDBACK + topic_suffix
    async with engine.begin() as conn:
        await enqueue(conn, tables.outbox, [_message(1, topic), _message(2, topic)])
    broken = _OutOfSequence(producer)
    renewed, renew = _renewing_to(producer)

    relay = OutboxRelay(
        engine,
        tables.outbox,
        broken,
        renew=renew,
        idle_sleep_s=0.01,
    )
    await _run_until_published(relay, 2)  # before the fix: the same failure every round
    assert broken.sent >= 1
    assert len(renewed) == 1
    assert await _unpublished(engine) == 0
    assert [r.value for r in await _read(infra.kafka, topic, 2)] == [
        _message(1, topic).value,
        _message(2, topic).value,
    ]


async def test_the_runtime_relays_only_after_its_before_relay_hook_says_so(
    infra: Infra, topic_suffix: str, schema_suffix: str, engine: AsyncEngine
) -> None:
    """The initiator's crash recovery must look at the topic before its relay publishes
    anything (relay_recovery.py): the runtime's relay waits for `before_relay`, and
    does not run at all when the hook gives up (the service is stopping)."""
    topic = FEEDBACK + topic_suffix
    async with engine.begin() as conn:
        await enqueue(conn, tables.outbox, [_message(1, topic)])
    settings = ServiceSettings(
        kafka_bootstrap_servers=infra.kafka,
        database_url=infra.database_url,
        db_schema="responder" + schema_suffix,
    )
    release, called = asyncio.Event(), asyncio.Event()
    answer = [True]

    async def hook(rt: ServiceRuntime, stop: asyncio.Event) -> bool:
        assert rt.producer_started.is_set()  # runs once the producer is up
        called.set()
        await release.wait()
        return answer[0]

    def host() -> Any:
        return SimpleNamespace(state=SimpleNamespace(metrics=CollectorRegistry(), readiness={}))

    answer[0] = False  # first: the hook gives up, nothing is ever published
    async with ServiceRuntime.open(
        host(), settings, client_id="jsb-test-hook", outbox=tables.outbox, before_relay=hook
    ):
        await asyncio.wait_for(called.wait(), 30)
        release.set()
        await asyncio.sleep(1.0)
        assert await _unpublished(engine) == 1

    release.clear()
    called.clear()
    answer[0] = True
    app = host()
    async with ServiceRuntime.open(
        app, settings, client_id="jsb-test-hook", outbox=tables.outbox, before_relay=hook
    ):
        await asyncio.wait_for(called.wait(), 30)
        await asyncio.sleep(1.0)  # the relay would have published by now
        assert await _unpublished(engine) == 1
        release.set()
        await _published(app.state.relay, 1)
        assert await _unpublished(engine) == 0
    assert [r.value for r in await _read(infra.kafka, topic, 1)] == [_message(1, topic).value]


async def test_the_mark_commits_without_the_flush_and_only_in_its_own_transaction(
    engine: AsyncEngine, producer: AIOKafkaProducer
) -> None:
    """The mark's statement turns synchronous_commit off for its own transaction (a lost
    mark is a re-publish: OutboxRelay says why), and the connection's next transaction
    commits durably again."""
    async with engine.begin() as conn:
        await enqueue(conn, tables.outbox, [_message(1, "t")])
    relay = OutboxRelay(engine, tables.outbox, producer)
    async with engine.connect() as conn:
        raw: Any = (await conn.get_raw_connection()).driver_connection
        assert await raw.fetchval("SHOW synchronous_commit") == "on"
        async with raw.transaction():
            ids = [r["id"] for r in await raw.fetch("SELECT id FROM outbox")]
            await raw.execute(relay._mark_sql, ids)
            assert await raw.fetchval("SHOW synchronous_commit") == "off"
        assert await raw.fetchval("SHOW synchronous_commit") == "on"
        await conn.rollback()
    assert await _unpublished(engine) == 0


class _Counted(_Wrapped):
    """The real producer, counting the batches handed to it."""

    async def send_batch(self, batch: Any, topic: str, *, partition: int) -> Any:
        self._count(batch, topic, partition)
        return await self.producer.send_batch(batch, topic, partition=partition)


async def test_a_round_goes_by_a_batch_per_partition_each_in_id_order(
    infra: Infra, topic_suffix: str, engine: AsyncEngine, producer: AIOKafkaProducer
) -> None:
    """Rows of ten keys over two topics of three partitions, some too large to share a
    batch (9 kB, against the producer's 16 kB batches) and one larger than a whole batch
    (20 kB: it goes alone): every record lands on the partition the producer's own
    partitioner gives its key (where `send` put it), each partition's records in id
    order, byte for byte (the headers in the stored JSON's order, as before); the round
    hands the producer a few batches, not a send per row (before: no batch, 70 sends)."""
    feedback, dead = FEEDBACK + topic_suffix, DEADLETTER + topic_suffix
    sizes = [700, 9_000, 700, 700, 20_000, 9_000, 700]
    sent = [
        OutboxMessage(
            dead if n % 5 == 4 else feedback,
            f"subject-{n % 10}",
            b"%d:" % n + bytes([n % 256]) * sizes[n % len(sizes)],
            {"jsb-event-type": "t", "n": str(n)},
        )
        for n in range(70)
    ]
    async with engine.begin() as conn:
        await enqueue(conn, tables.outbox, sent)
    counted = _Counted(producer)
    relay = OutboxRelay(engine, tables.outbox, counted, batch_size=500)

    assert await relay.publish_once() == 70
    assert await _unpublished(engine) == 0
    assert counted.sent == 70
    assert len(counted.batches) < 70
    assert {(t, p) for t, p, _ in counted.batches} == {
        (m.topic, producer._partitioner(m.key.encode(), [0, 1, 2], [0, 1, 2])) for m in sent
    }
    assert any(n > 1 for _, _, n in counted.batches)

    for topic in (feedback, dead):
        wanted = [m for m in sent if m.topic == topic]
        records = await _read(infra.kafka, topic, len(wanted))
        by_partition: dict[int, list[Any]] = {}
        for r in records:
            by_partition.setdefault(r.partition, []).append(r)
        expected: dict[int, list[Any]] = {}
        for m in wanted:  # id order
            partition = producer._partitioner(m.key.encode(), [0, 1, 2], [0, 1, 2])
            expected.setdefault(partition, []).append(
                (m.key.encode(), m.value, {k: v.encode() for k, v in m.headers.items()})
            )
        assert {
            p: [(r.key, r.value, dict(r.headers)) for r in rs] for p, rs in by_partition.items()
        } == expected


async def test_a_row_larger_than_a_request_is_refused_before_anything_is_sent(
    infra: Infra, topic_suffix: str, engine: AsyncEngine
) -> None:
    """As `send` refuses a record larger than `max_request_size`: the round fails before
    any row of it reaches the broker, and nothing is marked (before: the rows before it
    were sent, then the round failed)."""
    topic = FEEDBACK + topic_suffix
    small = AIOKafkaProducer(
        bootstrap_servers=infra.kafka, enable_idempotence=True, acks="all", max_request_size=4_000
    )
    await small.start()
    try:
        async with engine.begin() as conn:
            await enqueue(
                conn,
                tables.outbox,
                [_message(1, topic), OutboxMessage(topic, "subject-1", b"x" * 5_000, {})],
            )
        relay = OutboxRelay(engine, tables.outbox, small)
        with pytest.raises(MessageSizeTooLargeError):
            await relay.publish_once()
        assert relay.published == 0
        assert await _unpublished(engine) == 2
        await small.flush()
        assert await _read(infra.kafka, topic, 1) == []
    finally:
        await small.stop()
