"""Ingest: a batch of records from the designation and feedback topics becomes, in
ONE transaction (the consumer's, beside the stored offsets): one append to the event
store, the refreshed projections of every subject it touched, and their new statuses
in the outbox. Poison records go to the dead-letter topic through the same outbox;
ingest goes on. Duplicate event ids (a redelivery, a re-published outbox row) are
dropped by the store, so they change neither projections nor the status stream."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from aiokafka import ConsumerRecord
from prometheus_client import CollectorRegistry, Counter, Histogram
from sqlalchemy.ext.asyncio import AsyncConnection

from services.ledger import projections, store, tables
from services.ledger.status_stream import status_message
from shared.adapters.deadletter import dead_letter
from shared.adapters.outbox import OutboxMessage, enqueue
from shared.domain.envelope import Envelope
from shared.domain.events import decode_bytes
from shared.domain.wire import PoisonMessage

log = logging.getLogger(__name__)

CONSUMER = "ledger.ingest"


class IngestMetrics:
    def __init__(self, registry: CollectorRegistry | None) -> None:
        self.appended = Counter(
            "ledger_events_appended", "Events appended to the store", registry=registry
        )
        self.duplicates = Counter(
            "ledger_duplicates_dropped", "Redelivered events dropped", registry=registry
        )
        self.dead = Counter(
            "ledger_dead_letters", "Poison records dead-lettered", registry=registry
        )
        self.batch = Histogram(
            "ledger_ingest_batch_seconds", "Time to apply one batch", registry=registry
        )


class Ingest:
    def __init__(self, topic_suffix: str = "", registry: CollectorRegistry | None = None) -> None:
        self._suffix = topic_suffix
        self._metrics = IngestMetrics(registry) if registry is not None else None
        self.appended = 0
        self.dead_lettered = 0

    async def __call__(self, conn: AsyncConnection, records: Sequence[ConsumerRecord]) -> None:
        started = time.perf_counter()
        batch: list[tuple[Envelope, store.SourceRef | None]] = []
        dead: list[OutboxMessage] = []
        for r in records:
            try:
                env, _ = decode_bytes(r.value)
                if b"\\u0000" in r.value:
                    # Valid JSON, but neither JSONB nor text can hold NUL: appending it
                    # would fail the batch on every retry and stop ingest for good.
                    raise PoisonMessage("a NUL character (\\u0000) cannot be stored")
            except PoisonMessage as exc:
                log.warning(
                    "dead-lettering %s[%s]@%s: %s", r.topic, r.partition, r.offset, exc.reason
                )
                dead.append(dead_letter(r, exc.reason, CONSUMER, self._suffix))
                continue
            batch.append((env, store.SourceRef(r.topic, r.partition, r.offset)))
        appended = await store.append(conn, tables.events, batch)
        touched = list(dict.fromkeys(e.stream for e in appended))
        refreshed = await projections.refresh(conn, touched, appended)
        statuses = [status_message(p, self._suffix) for p in refreshed]
        await enqueue(conn, tables.outbox, [*dead, *statuses])
        self.appended += len(appended)
        self.dead_lettered += len(dead)
        if self._metrics is not None:
            self._metrics.appended.inc(len(appended))
            self._metrics.duplicates.inc(len(batch) - len(appended))
            self._metrics.dead.inc(len(dead))
            self._metrics.batch.observe(time.perf_counter() - started)
