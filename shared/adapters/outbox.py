"""Transactional outbox: what a service emits is written in the same Postgres
transaction as the change that caused it, and a relay publishes it to Kafka.

Why: a service must never change its state without emitting the event, nor emit
an event for a change that rolled back. Writing both in one transaction and
publishing afterwards gives "never lost, never half-published"; the relay may
publish a row twice if it dies between the broker's ack and marking the row, so
every consumer drops duplicates by the event id.

`PostgresOutbox` is the adapter of shared/ports.py's `Outbox` (in-memory one:
shared/adapters/memory.py); the relay below publishes what it holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    InvalidProducerEpoch,
    MessageSizeTooLargeError,
    OutOfOrderSequenceNumber,
    ProducerClosed,
    ProducerFenced,
    UnknownProducerId,
)
from aiokafka.producer.message_accumulator import BatchBuilder
from aiokafka.record.default_records import DefaultRecordBatchBuilder
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    LargeBinary,
    MetaData,
    Table,
    Text,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shared.adapters.db import driver_of
from shared.adapters.observability import PipelineMetrics
from shared.adapters.topics import DEADLETTER
from shared.ports import OutboxMessage as OutboxMessage  # what services enqueue

log = logging.getLogger(__name__)

ACK_TIMEOUT_S = 60.0
"""How long a round waits for the broker's acknowledgements (4× the producer's
request timeout) before it gives the producer up for a new one."""

Renew = Callable[[asyncio.Event], Awaitable[AIOKafkaProducer]]
"""Stops a stalled producer (boundedly) and returns a started new one."""


FATAL_PRODUCER_ERRORS = (
    OutOfOrderSequenceNumber,
    UnknownProducerId,
    InvalidProducerEpoch,
    ProducerFenced,
    ProducerClosed,
)
"""Errors after which an idempotent producer never sends again: its sequence numbers no
longer match the broker's (seen after a broker restart: every later round failed with
`OutOfOrderSequenceNumber`, for minutes, until the test gave up)."""


class ProducerStalled(RuntimeError):
    """A round's sends were not acknowledged within the bound, or the producer failed
    for good; nothing was marked."""


def outbox_table(metadata: MetaData) -> Table:
    return Table(
        "outbox",
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("topic", Text, nullable=False),
        Column("key", Text, nullable=False),
        Column("value", LargeBinary, nullable=False),
        Column("headers", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("published_at", DateTime(timezone=True)),
        Index("outbox_unpublished", "id", postgresql_where=text("published_at IS NULL")),
    )


COPY_THRESHOLD = 2
"""From how many rows `enqueue` writes a batch by binary COPY rather than INSERT.

Measured (bench/outbox_write.py, alternated, each batch its own transaction): from 2
rows the COPY costs the service 0.75-0.85x the INSERT's CPU per row, Postgres's backend
the same within the 10 ms ticks' noise up to 8 rows and 0.6-0.85x from 16, at 1.1-1.8x
the rows/s. A single row stays on the INSERT: there the rate and Postgres's CPU are
the same (0.99x, 0.95x) and the one-row paths (an inbox reply, one check's
interceptions on the Idempotency-Key path, one designation) were not measured in
their own context (docs/benchmarks.md, "One outbox write path")."""

_COLUMNS = ("topic", "key", "value", "headers")


async def enqueue(
    conn: AsyncConnection,
    table: Table,
    messages: Sequence[OutboxMessage],
    *,
    copy_threshold: int = COPY_THRESHOLD,
) -> None:
    """Add messages to the outbox inside the caller's transaction, in their order.

    Why a batch of `copy_threshold` rows or more goes by one binary COPY (asyncpg's
    `copy_records_to_table`, on the driver inside the transaction: db.driver_of): through
    SQLAlchemy's executemany each row's parameters, its headers' JSON and the multi-row
    INSERT's pages are built in Python, and the database parses the statement's values;
    the COPY streams binary tuples (the responder's feedback rows, ~31 per court
    designation, cost 25 ms of CPU per 100 designations that way: docs/benchmarks.md,
    "third pass"). The identity column numbers COPY rows in their order, as the INSERT's.
    Below the threshold the INSERT, a single cached statement, costs no more
    (docs/benchmarks.md, "One outbox write path")."""
    if not messages:
        return
    if len(messages) >= copy_threshold:
        driver = await driver_of(conn)
        await driver.copy_records_to_table(
            table.name,
            schema_name=table.schema,
            columns=_COLUMNS,
            records=[(m.topic, m.key, m.value, orjson.dumps(m.headers).decode()) for m in messages],
        )
        return
    await conn.execute(
        insert(table),
        [
            {"topic": m.topic, "key": m.key, "value": m.value, "headers": m.headers}
            for m in messages
        ],
    )


class PostgresOutbox:
    """`Outbox` on one open transaction of `conn`."""

    def __init__(
        self, conn: AsyncConnection, table: Table, *, copy_threshold: int = COPY_THRESHOLD
    ) -> None:
        self.conn, self.table, self.copy_threshold = conn, table, copy_threshold

    async def enqueue(self, messages: Sequence[OutboxMessage]) -> None:
        await enqueue(self.conn, self.table, messages, copy_threshold=self.copy_threshold)

    async def pending(self, limit: int) -> list[tuple[int, OutboxMessage]]:
        t = self.table
        rows = await self.conn.execute(
            select(t.c.id, t.c.topic, t.c.key, t.c.value, t.c.headers)
            .where(t.c.published_at.is_(None))
            .order_by(t.c.id)
            .limit(limit)
            .with_for_update()
        )
        return [(r.id, OutboxMessage(r.topic, r.key, r.value, dict(r.headers or {}))) for r in rows]

    async def mark_published(self, ids: Sequence[int]) -> None:
        t = self.table
        await self.conn.execute(
            update(t).where(t.c.id.in_(list(ids))).values(published_at=func.now())
        )


async def send_rows(
    producer: AIOKafkaProducer, rows: Sequence[Any], headers: Sequence[dict[str, Any]]
) -> None:
    """Send outbox rows (`id`, `topic`, `key`, `value`; `headers` beside them) by a batch
    per partition, each partition's rows in their order; return once the broker
    acknowledged every one (a batch's future fails as its records' would).

    Why batches built here rather than a `send` per row: `send` serialises, checks,
    partitions and appends each record to the accumulator through several coroutines;
    building a partition's batch in one loop and handing it over by `send_batch` costs
    0.54x the CPU per record (`bench.relay_batches`: 14.9 against 27.7 us; in the
    pipeline the relay's `_send` went from 5.0 % to 1.8 % of the responder's busy
    samples, 0.91 -> 0.32 s, aiokafka's sender writing the requests staying at ~9.5 %:
    docs/benchmarks.md, "The responder and the relays (session 10)"). What `send`
    guaranteed is kept: the partition is the producer's own partitioner's choice
    over the topic's metadata (as `send` makes it), a partition's rows go in id order
    (a batch closed when full is handed over before the next one of its partition, and
    the accumulator queues a partition's batches in that order), a row larger than the
    producer's `max_request_size` is refused before anything is sent (as `send` refuses
    it), and a row too large for an empty batch's size still goes, alone (the first
    record always fits). Retries, the idempotent producer's sequence numbers and
    acknowledgements are the accumulator's and the sender's, the same for both."""
    partitioner = producer._partitioner  # what `send` calls (kafka_clients.make_producer's)
    max_size = producer._max_request_size
    topics: dict[str, tuple[list[int], list[int]]] = {}
    open_: dict[tuple[str, int], BatchBuilder] = {}
    ready: list[tuple[str, int, BatchBuilder]] = []  # in the order they were closed
    for r, h in zip(rows, headers, strict=True):
        topic, key, value = r["topic"], r["key"].encode(), r["value"]
        record_headers = [(k, str(v).encode()) for k, v in h.items()]
        if DefaultRecordBatchBuilder.estimate_size_in_bytes(key, value, record_headers) > (
            max_size
        ):
            raise MessageSizeTooLargeError(
                f"outbox row {r['id']} is larger than the producer's max_request_size"
            )
        if topic not in topics:
            every = list(await producer.partitions_for(topic))
            available = list(producer.client.cluster.available_partitions_for_topic(topic))
            topics[topic] = (every, available)
        partition: int = partitioner(key, *topics[topic])
        batch = open_.get((topic, partition))
        if batch is None:
            batch = open_[topic, partition] = producer.create_batch()
        if batch.append(key=key, value=value, timestamp=None, headers=record_headers) is None:
            ready.append((topic, partition, batch))  # full: a new one takes the row
            batch = open_[topic, partition] = producer.create_batch()
            if batch.append(key=key, value=value, timestamp=None, headers=record_headers) is None:
                # An empty batch takes its first record whatever its size (aiokafka's
                # builder); should that ever change, refuse rather than drop the row.
                raise MessageSizeTooLargeError(f"outbox row {r['id']} fits no batch")
    ready.extend((topic, partition, batch) for (topic, partition), batch in open_.items())
    futures = [
        await producer.send_batch(batch, topic, partition=partition)
        for topic, partition, batch in ready
    ]
    await asyncio.gather(*futures)


class OutboxRelay:
    """Publishes outbox rows in id order with an idempotent producer.

    Why `FOR UPDATE` without SKIP LOCKED: two relays (two instances of a service)
    then take turns instead of publishing neighbouring rows concurrently, which
    keeps the per-subject order that Kafka keys promise.

    Why plain asyncpg statements on one connection held between rounds: through
    SQLAlchemy (a pool checkout with its pre-ping, statement building and compiling,
    result rows) a round cost ~8.5 % of the responder's event loop under check load,
    three quarters of it outside Kafka (py-spy, docs/benchmarks.md).

    Why the marking commits without waiting for its WAL flush (`synchronous_commit`
    off for that transaction only): a mark lost in a crash only means the rows are
    published again, which every consumer already handles (it drops an event it has
    seen by its id); the rows themselves were committed by their own transactions.
    Not waiting leaves the disk's flushes to the commits that must wait for them (the
    responder's checks).

    Why a round of less than a batch is followed by the idle wait, as an empty one: the
    rows that come meanwhile then go in one round instead of many small ones. Each round
    costs a transaction (BEGIN, the select, the mark, COMMIT) and a produce request with
    its acknowledgement whatever its size; under check load (~1,800 interceptions/s)
    rounds taken back to back carried ~15 rows. Measured (bench.profile_checks, 10,000
    subjects, alternated, three runs each, load 6-8): 3,054-3,959 -> 3,581-4,050
    checks/s, the responder's CPU per check 0.158-0.163 -> 0.144-0.156 ms, its Postgres
    backends' ~0.06-0.12 -> 0.07-0.09 ms, the broker's 0.019-0.027 -> 0.019-0.021 ms. The
    cost: a row waits up to `idle_sleep_s` longer under load (as it already could when
    the relay was idle); a full batch is followed by the next round at once, so the rate
    a relay can publish is not bounded by the wait.

    Why a bound on a round's acknowledgements and a new producer after it: an
    idempotent aiokafka producer retries a batch for ever, and after some connection
    errors its sends never resolve even once the broker is back (aiokafka issue 1101,
    open for 0.12; seen here once: the ledger's relay published nothing for over two
    minutes after a connection error, its round waiting on send futures). A round not
    acknowledged within `ack_timeout_s` rolls back (its rows stay unpublished), and
    `renew` replaces the producer; the next round sends the rows again. A row the old
    producer delivers late is a duplicate, which every consumer drops by its event id.
    The same after an error that leaves the producer unable to send again
    (`FATAL_PRODUCER_ERRORS`): after a broker restart the responder's relay failed every
    round with `OutOfOrderSequenceNumber` and published nothing more (the broker fault
    test with the production bound, found in session 6).
    """

    def __init__(
        self,
        engine: AsyncEngine,
        table: Table,
        producer: AIOKafkaProducer,
        *,
        batch_size: int = 500,
        idle_sleep_s: float = 0.05,
        metrics: PipelineMetrics | None = None,
        ack_timeout_s: float = ACK_TIMEOUT_S,
        renew: Renew | None = None,
    ) -> None:
        self._engine = engine
        self._table = table
        self._producer = producer
        self._ack_timeout_s = ack_timeout_s
        self._renew = renew
        self._batch_size = batch_size
        self._idle_sleep_s = idle_sleep_s
        self.published = 0
        self.rounds = 0
        """Rounds that published something."""
        self._metrics = metrics
        # The statements name the table as the dialect quotes it (from the Table, never
        # from input); a schema-less table is the search_path's (shared/adapters/db.py).
        name = postgresql.dialect().identifier_preparer.format_table(table)  # type: ignore[no-untyped-call]
        self._pending_sql = (
            f"SELECT id, topic, key, value, headers::text AS headers FROM {name}"  # noqa: S608
            " WHERE published_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE"
        )
        # The mark turns synchronous_commit off for its own transaction in the same
        # statement (one round trip a round fewer than a SET LOCAL before it; the CTE is
        # referenced so that it runs).
        self._mark_sql = (
            "WITH flushless AS MATERIALIZED"  # noqa: S608
            " (SELECT set_config('synchronous_commit', 'off', true))"
            f" UPDATE {name} SET published_at = now() FROM flushless"
            " WHERE id = ANY($1::bigint[])"
        )
        self._backlog_sql = f"SELECT count(*) FROM {name} WHERE published_at IS NULL"  # noqa: S608

    def use(self, producer: AIOKafkaProducer) -> None:
        """Publish with `producer` from now on: the runtime replaces a producer whose
        start failed (Kafka away at start-up) with a new one."""
        self._producer = producer

    async def publish_once(self) -> int:
        async with _held(self._engine) as conn:
            return await self._publish(conn)

    async def _publish(self, conn: asyncpg.Connection[Any]) -> int:
        async with conn.transaction():
            rows = await conn.fetch(self._pending_sql, self._batch_size)
            if not rows:
                return 0
            headers = [orjson.loads(r["headers"]) if r["headers"] else {} for r in rows]
            try:
                await asyncio.wait_for(self._send(rows, headers), self._ack_timeout_s)
            except TimeoutError as exc:  # the transaction rolls back: nothing marked
                raise ProducerStalled(
                    f"{len(rows)} sends not acknowledged within {self._ack_timeout_s:g} s"
                ) from exc
            except FATAL_PRODUCER_ERRORS as exc:
                raise ProducerStalled(f"the producer failed: {type(exc).__name__}") from exc
            await conn.execute(self._mark_sql, [r["id"] for r in rows])
        self.published += len(rows)
        self.rounds += 1
        if self._metrics is not None:
            self._metrics.published.inc(len(rows))
            for r, h in zip(rows, headers, strict=True):
                if r["topic"].startswith(DEADLETTER):
                    self._metrics.dead_letters.labels(h.get("jsb-consumer", "unknown")).inc()
        return len(rows)

    async def _send(self, rows: Sequence[Any], headers: Sequence[dict[str, Any]]) -> None:
        await send_rows(self._producer, rows, headers)

    async def backlog(self) -> int:
        async with _held(self._engine) as conn:
            return await self._backlog(conn)

    async def _backlog(self, conn: asyncpg.Connection[Any]) -> int:
        count = int(await conn.fetchval(self._backlog_sql) or 0)
        if self._metrics is not None:
            self._metrics.outbox_backlog.set(count)
        return count

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until `stop`, on one connection held while it works (a new one after
        an error)."""
        last_backlog = 0.0
        while not stop.is_set():
            try:
                async with _held(self._engine) as conn:
                    while not stop.is_set():
                        n = await self._publish(conn)
                        if self._metrics is not None and time.monotonic() - last_backlog > 5.0:
                            last_backlog = time.monotonic()
                            await self._backlog(conn)
                        if n < self._batch_size:  # (why: the class's docstring)
                            with contextlib.suppress(TimeoutError):
                                await asyncio.wait_for(stop.wait(), self._idle_sleep_s)
            except asyncio.CancelledError:
                raise
            except ProducerStalled as stalled:
                log.warning("outbox relay: %s; replacing the producer", stalled)
                if self._renew is not None:
                    self._producer = await self._renew(stop)
                    if self._metrics is not None:
                        self._metrics.producer_renewals.inc()
            except Exception:  # broker or database away: keep the rows, try again
                log.exception("outbox relay: publish failed; retrying")
                await asyncio.sleep(1.0)


@asynccontextmanager
async def _held(engine: AsyncEngine) -> AsyncIterator[asyncpg.Connection[Any]]:
    """The asyncpg connection under one of the engine's (SQLAlchemy starts no
    transaction on it here). One left inside a transaction — a round interrupted
    half-way, e.g. cancelled at shutdown — is discarded, never handed back to the pool
    (SQLAlchemy's reset would not roll back a transaction it did not start)."""
    async with engine.connect() as conn:
        driver: asyncpg.Connection[Any] = (await conn.get_raw_connection()).driver_connection
        try:
            yield driver
        finally:
            if not driver.is_closed() and driver.is_in_transaction():
                await conn.invalidate()
