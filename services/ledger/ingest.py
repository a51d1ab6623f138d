"""Ingest: a batch of records from the designation and feedback topics becomes, in
ONE transaction (the consumer's, beside the stored offsets): one append to the event
store, the lookups of the designations it issues, and a projection-queue row per
subject it touched. Poison records go to the dead-letter topic through the same
outbox; ingest goes on. Duplicate event ids (a redelivery, a re-published outbox
row) are dropped by the store, so they queue nothing.

The projection rows and the status messages follow a moment later, in the
projector's own transaction (projector.py, which says why that is still
exactly-once): a subject whose events come over several batches is refreshed once
for all of them when the projector gets to it."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from aiokafka import ConsumerRecord
from prometheus_client import CollectorRegistry, Counter, Histogram
from sqlalchemy.ext.asyncio import AsyncConnection

from services.ledger import store
from services.ledger.ingest_postgres import PostgresIngestTransaction
from services.ledger.lookup_store import lookup_entries
from services.ledger.ports import IngestTransaction
from shared.adapters.deadletter import dead_letter
from shared.domain.envelope import Envelope
from shared.domain.events import validate_bytes
from shared.domain.wire import PoisonMessage
from shared.ports import OutboxMessage

log = logging.getLogger(__name__)

CONSUMER = "ledger.ingest"


STEPS = ("decode", "append", "queue")
"""The steps of a batch, timed (`Ingest.seconds`, metric ledger_ingest_step_seconds):
`append` includes waiting for the append turn (the other lane's batch), `queue` the
dead letters, the lookups and the projection queue. The projector's steps are its own
(projector.STEPS)."""

HandOver = Callable[[Sequence[store.StoredEvent]], None]
"""Gives the events a batch appended to the projector (Projector.hand_over)."""


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
        self.steps = Counter(
            "ledger_ingest_step_seconds",
            "Time spent in each step of ingest",
            ["step"],
            registry=registry,
        )


class Ingest:
    """The handler of both ingest lanes (services/ledger/bootstrap.py), on the ports of
    ports.py (`bind` makes them from the consumer's connection). `hand_over` receives
    what each batch appended (before its transaction commits: the projector uses
    these events only where it can prove them committed, projector.py)."""

    def __init__(
        self,
        topic_suffix: str = "",
        registry: CollectorRegistry | None = None,
        hand_over: HandOver | None = None,
        bind: Callable[[AsyncConnection], IngestTransaction] = PostgresIngestTransaction,
    ) -> None:
        self._suffix = topic_suffix
        self._bind = bind
        self._hand_over = hand_over
        self._metrics = IngestMetrics(registry) if registry is not None else None
        self.appended = 0
        self.dead_lettered = 0
        self.seconds = dict.fromkeys(STEPS, 0.0)
        """Time spent per step since start (for benchmarks and the step metric)."""

    async def __call__(self, conn: AsyncConnection, records: Sequence[ConsumerRecord]) -> None:
        """The consumer's handler: `apply` on the ports bound to its connection."""
        await self.apply(self._bind(conn), records)

    async def apply(self, tx: IngestTransaction, records: Sequence[ConsumerRecord]) -> None:
        """Ingest `records` through the ports of one transaction (`tx`)."""
        started = time.perf_counter()
        clock = Clock(self.seconds)
        batch, dead = decode_records(records, self._suffix)
        clock.lap("decode")
        appended = await tx.events.append(batch)
        clock.lap("append")
        await tx.outbox.enqueue(dead)
        await tx.lookups.add(lookup_entries(appended))
        # Each touched subject with its latest event (the store appends in order).
        await tx.queue.enqueue({e.stream: e.position for e in appended})
        clock.lap("queue")
        if self._hand_over is not None and appended:
            self._hand_over(appended)
        self.appended += len(appended)
        self.dead_lettered += len(dead)
        if self._metrics is not None:
            self._metrics.appended.inc(len(appended))
            self._metrics.duplicates.inc(len(batch) - len(appended))
            self._metrics.dead.inc(len(dead))
            self._metrics.batch.observe(time.perf_counter() - started)
            for step, seconds in clock.laps.items():
                self._metrics.steps.labels(step).inc(seconds)


def decode_records(
    records: Sequence[ConsumerRecord], topic_suffix: str = ""
) -> tuple[list[tuple[Envelope, store.SourceRef | None]], list[OutboxMessage]]:
    """The batch's envelopes with their sources, in record order, and a dead letter
    for each poison record (pure: tests/unit/test_ledger_ingest_decode.py)."""
    batch: list[tuple[Envelope, store.SourceRef | None]] = []
    dead: list[OutboxMessage] = []
    for r in records:
        try:
            env = validate_bytes(r.value)
            if b"\\u0000" in r.value:
                # Valid JSON, but neither JSONB nor text can hold NUL: appending it
                # would fail the batch on every retry and stop ingest for good.
                raise PoisonMessage("a NUL character (\\u0000) cannot be stored")
        except PoisonMessage as exc:
            log.warning("dead-lettering %s[%s]@%s: %s", r.topic, r.partition, r.offset, exc.reason)
            dead.append(dead_letter(r, exc.reason, CONSUMER, topic_suffix))
            continue
        batch.append((env, store.SourceRef(r.topic, r.partition, r.offset)))
    return batch, dead


class Clock:
    """Times the steps of a batch or a projection round into `totals`."""

    def __init__(self, totals: dict[str, float]) -> None:
        self._totals = totals
        self._last = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, step: str) -> None:
        now = time.perf_counter()
        self.laps[step] = now - self._last
        self._totals[step] += now - self._last
        self._last = now
