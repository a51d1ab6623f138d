"""Exactly-once *effect* for Kafka consumers, without distributed transactions.

A batch of records is applied and the next offsets are stored in ONE Postgres
transaction; on (re)assignment the consumer seeks to the offsets stored there.
So a crash anywhere either keeps the batch and its offsets together, or neither:
no record is lost or applied twice. Offsets are also committed to Kafka after the
fact, but only so that lag tools see progress; Postgres is authoritative.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

import msgspec
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from sqlalchemy import BigInteger, Column, Integer, MetaData, Table, Text, select, tuple_
from sqlalchemy.dialects.postgresql import Insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shared.adapters.deadletter import consuming_in
from shared.adapters.kafka_clients import make_consumer
from shared.adapters.observability import PipelineMetrics, event_ids, reset_event_ids
from shared.adapters.outbox import enqueue
from shared.adapters.screen import Screen

log = logging.getLogger(__name__)

Handler = Callable[[AsyncConnection, Sequence[ConsumerRecord]], Awaitable[None]]


def offsets_table(metadata: MetaData) -> Table:
    return Table(
        "consumer_offsets",
        metadata,
        Column("consumer", Text, primary_key=True),
        Column("topic", Text, primary_key=True),
        Column("partition", Integer, primary_key=True),
        Column("next_offset", BigInteger, nullable=False),
    )


async def stored_offsets(
    conn: AsyncConnection, table: Table, consumer: str
) -> dict[TopicPartition, int]:
    rows = await conn.execute(
        select(table.c.topic, table.c.partition, table.c.next_offset).where(
            table.c.consumer == consumer
        )
    )
    return {TopicPartition(r.topic, r.partition): r.next_offset for r in rows}


async def store_offsets(
    conn: AsyncConnection, table: Table, consumer: str, offsets: dict[TopicPartition, int]
) -> None:
    if not offsets:
        return
    await conn.execute(
        _offsets_upsert(table),
        [
            {"consumer": consumer, "topic": tp.topic, "partition": tp.partition, "next_offset": o}
            for tp, o in offsets.items()
        ],
    )


@functools.cache
def _offsets_upsert(table: Table) -> Insert:
    """One constant statement per table, executed with the batch's rows: the multi-row
    `.values(rows)` built per batch was compiled by SQLAlchemy again for every batch
    (32 compiles in 32 batches, seen in the notifier's profile)."""
    stmt = pg_insert(table)
    return stmt.on_conflict_do_update(
        index_elements=["consumer", "topic", "partition"],
        set_={"next_offset": stmt.excluded.next_offset},
    )


class PostgresOffsets:
    """shared/ports.py's `ConsumerOffsets` on one open transaction of `conn`."""

    def __init__(self, conn: AsyncConnection, table: Table) -> None:
        self.conn, self.table = conn, table

    async def stored(self, consumer: str) -> dict[TopicPartition, int]:
        return await stored_offsets(self.conn, self.table, consumer)

    async def store(self, consumer: str, offsets: dict[TopicPartition, int]) -> None:
        await store_offsets(self.conn, self.table, consumer, offsets)


def _tp(record: ConsumerRecord) -> TopicPartition:
    return TopicPartition(record.topic, record.partition)


async def _locked_offsets(
    conn: AsyncConnection,
    table: Table,
    consumer: str,
    partitions: Iterable[TopicPartition],
) -> dict[TopicPartition, int]:
    """The stored offsets of `partitions`, their rows locked for the transaction."""
    wanted = list(partitions)
    if not wanted:
        return {}
    rows = await conn.execute(
        select(table.c.topic, table.c.partition, table.c.next_offset)
        .where(
            table.c.consumer == consumer,
            tuple_(table.c.topic, table.c.partition).in_(
                [(tp.topic, tp.partition) for tp in wanted]
            ),
        )
        .with_for_update()
    )
    return {TopicPartition(r.topic, r.partition): r.next_offset for r in rows}


def next_offsets(records: Sequence[ConsumerRecord]) -> dict[TopicPartition, int]:
    out: dict[TopicPartition, int] = {}
    for r in records:
        tp = TopicPartition(r.topic, r.partition)
        out[tp] = max(out.get(tp, 0), r.offset + 1)
    return out


class _SeekToStored(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, owner: TransactionalConsumer) -> None:
        self._owner = owner

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        return None

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self._owner.seek_to_stored(assigned)


class TransactionalConsumer:
    """Consumes `topics` in group `group_id`, applying each batch with `handler`
    inside the transaction that also stores the offsets under `name`.

    With `outbox` (the service's outbox table), records too large to be events or
    under a key that is not their subject never reach the handler: they are
    dead-lettered through that outbox in the same transaction (screen.py)."""

    def __init__(
        self,
        *,
        name: str,
        engine: AsyncEngine,
        offsets: Table,
        bootstrap: str,
        group_id: str,
        topics: Sequence[str],
        handler: Handler,
        max_records: int = 500,
        poll_timeout_ms: int = 200,
        metrics: PipelineMetrics | None = None,
        outbox: Table | None = None,
        topic_suffix: str = "",
        fetch: Mapping[str, int] | None = None,
    ) -> None:
        """`fetch`: make_consumer's fetch_min_bytes / fetch_max_wait_ms."""
        self.name = name
        self._outbox = outbox
        self._screen = Screen(name, topic_suffix)
        self._engine = engine
        self._offsets = offsets
        self._handler = handler
        self._topics = list(topics)
        self._max_records = max_records
        self._poll_timeout_ms = poll_timeout_ms
        self._group_id = group_id
        self._consumer: AIOKafkaConsumer = make_consumer(bootstrap, group_id, name, **(fetch or {}))
        self.applied = 0
        self._metrics = metrics

    async def seek_to_stored(self, assigned: set[TopicPartition]) -> None:
        async with self._engine.connect() as conn:
            stored = await stored_offsets(conn, self._offsets, self.name)
        for tp in assigned:
            if tp in stored:
                self._consumer.seek(tp, stored[tp])
            else:
                await self._consumer.seek_to_beginning(tp)

    async def start(self) -> None:
        self._consumer.subscribe(self._topics, listener=_SeekToStored(self))
        await self._consumer.start()

    async def stop(self) -> None:
        await self._consumer.stop()

    async def poll_once(self) -> int:
        batches = await self._consumer.getmany(
            timeout_ms=self._poll_timeout_ms, max_records=self._max_records
        )
        records = [r for part in batches.values() for r in part]
        if not records:
            await self._report_lag()
            return 0
        started = time.perf_counter()
        ids = event_ids(*_envelope_ids(records[0]))
        try:
            async with self._engine.begin() as conn:
                # Why the guard: on (re)assignment aiokafka installs the assignment and
                # may fetch from the reset position before the rebalance listener's seek
                # to the stored offsets has run (the listener awaits Postgres); that seek
                # can then rewind over a batch just committed. Records below the stored
                # offset were applied already: drop them, in the transaction that stores
                # the new offsets. The offset rows are locked so that two members briefly
                # owning a partition during a rebalance take turns instead of both applying.
                stored = await _locked_offsets(conn, self._offsets, self.name, batches)
                fresh = [r for r in records if r.offset >= stored.get(_tp(r), 0)]
                offsets = next_offsets(fresh)
                if fresh:
                    with consuming_in(self._group_id):
                        await self._apply(conn, fresh)
                    await store_offsets(conn, self._offsets, self.name, offsets)
        except Exception:
            # Nothing of the batch was kept: rewind so the same records come again.
            for tp, part in batches.items():
                if part:
                    self._consumer.seek(tp, part[0].offset)
            reset_event_ids(ids)
            raise
        except BaseException:
            reset_event_ids(ids)
            raise
        for tp, part in batches.items():  # rewound below what is applied: skip ahead
            if part and stored.get(tp, 0) > part[-1].offset + 1:
                self._consumer.seek(tp, stored[tp])
        if not fresh:
            reset_event_ids(ids)
            return 0
        self.applied += len(fresh)
        # one line per batch, under the ids of its first envelope (its cause)
        log.info("batch applied", extra={"consumer": self.name, "records": len(fresh)})
        reset_event_ids(ids)
        if self._metrics is not None:
            self._metrics.consumed.labels(self.name).inc(len(fresh))
            self._metrics.batch_seconds.labels(self.name).observe(time.perf_counter() - started)
        await self._report_lag()
        try:
            await self._consumer.commit(offsets)
        except Exception:  # lag reporting only; Postgres holds the truth
            log.warning("%s: Kafka offset commit failed (harmless)", self.name)
        return len(fresh)

    async def _apply(self, conn: AsyncConnection, records: list[ConsumerRecord]) -> None:
        if self._outbox is None:
            await self._handler(conn, records)
            return
        kept, dead = self._screen.split(records)
        if dead:
            for d in dead:
                log.warning(
                    "dead-lettering %s[%s]@%s: %s",
                    d.headers["jsb-source-topic"],
                    d.headers["jsb-source-partition"],
                    d.headers["jsb-source-offset"],
                    d.headers["jsb-reason"],
                )
            await enqueue(conn, self._outbox, dead)
        if kept:
            await self._handler(conn, kept)

    async def _report_lag(self) -> None:
        """Records behind the partitions' high-water marks (for the lag gauge)."""
        if self._metrics is None:
            return
        lag = 0
        for tp in self._consumer.assignment():
            high = self._consumer.highwater(tp)
            if high is None:  # nothing fetched yet: position may not be known
                continue
            with contextlib.suppress(Exception):
                behind = max(0, high - await asyncio.wait_for(self._consumer.position(tp), 1.0))
                lag += behind
                self._metrics.partition_lag.labels(
                    self.name, self._group_id, tp.topic, str(tp.partition)
                ).set(behind)
        self._metrics.lag.labels(self.name).set(lag)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.poll_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s: batch failed; it will be retried", self.name)
                await asyncio.sleep(1.0)


class _Ids(msgspec.Struct, gc=False):
    id: Any = None
    correlationid: Any = None


_IDS = msgspec.json.Decoder(_Ids)
"""An envelope's two ids alone, the rest skipped, not built: a whole parse of a 25 kB
status (the standard library's) was ~117 µs a batch against ~15 µs."""


def _envelope_ids(record: ConsumerRecord) -> tuple[str | None, str | None]:
    """The correlation id and the id (the cause of what the batch does) of a batch's
    first envelope, for its log lines; (None, None) when it is no envelope."""
    try:
        head = _IDS.decode(record.value or b"")
    except msgspec.MsgspecError:
        return None, None
    return head.correlationid or head.id, head.id
