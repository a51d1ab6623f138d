"""Ingest: a batch of records from the designation and feedback topics becomes, in
ONE transaction (the consumer's, beside the stored offsets): one append to the event
store, the refreshed projections of every subject it touched, and their new statuses
in the outbox. Poison records go to the dead-letter topic through the same outbox;
ingest goes on. Duplicate event ids (a redelivery, a re-published outbox row) are
dropped by the store, so they change neither projections nor the status stream."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from aiokafka import ConsumerRecord
from prometheus_client import CollectorRegistry, Counter, Histogram
from sqlalchemy.ext.asyncio import AsyncConnection

from services.ledger import store
from services.ledger.fold_cache import FoldCache
from services.ledger.ingest_postgres import PostgresIngestTransaction
from services.ledger.ports import IngestTransaction
from services.ledger.read_models import refresh
from services.ledger.status_stream import status_message
from shared.adapters.deadletter import dead_letter
from shared.domain.envelope import Envelope
from shared.domain.events import decode_bytes
from shared.domain.wire import PoisonMessage
from shared.ports import OutboxMessage

log = logging.getLogger(__name__)

CONSUMER = "ledger.ingest"


STEPS = ("decode", "append", "fold", "project", "write", "status", "outbox")
"""The steps of a batch, timed (`Ingest.seconds`, metric ledger_ingest_step_seconds):
`append` includes waiting for the append turn (the other lane's batch), `fold`
reading the streams the fold cache misses, `project` renders the status and windows
and builds the rows, `write` replaces them in Postgres."""


REFRESH_CHUNK = 25
"""Subjects refreshed together within a batch. Why not all of them at once: each
refreshed subject holds its rendered status, its rows, their JSON and its status
message (~0.3 MB for a court debtor) until they are written; a designation lane's
batch of 2,000 new debtors held ~600 MB. In chunks the batch's peak is bounded by
the chunk, at the cost of a few more statements per batch (same transaction, same
rows, same messages in the same order). Measured at 50,000 events: ingest's peak RSS
340 MB with chunks of 250, 263 MB with 100, at the same speed. 25 since the soak
(docs/reliability.md, "The ledger's RSS: what grows"): the process keeps the
high-water mark of these transients (pymalloc's arenas, glibc's heap), so a chunk of
100 court debtors (~30 MB) coming late in a run showed as growth."""


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
        self.subjects = Counter(
            "ledger_subjects_refreshed", "Subject projections refreshed", registry=registry
        )
        self.cache = Counter(
            "ledger_fold_cache_lookups",
            "Fold cache lookups by outcome (a miss reads the stream back)",
            ["outcome"],
            registry=registry,
        )


class Ingest:
    """The handler of both ingest lanes (services/ledger/bootstrap.py), on the ports of
    ports.py (`bind` makes them from the consumer's connection). Holds the fold
    cache they share: they take turns under the append lock, so one subject is never
    folded by two batches at once (and fold_cache.py says why a stale entry is only
    a miss)."""

    def __init__(
        self,
        topic_suffix: str = "",
        registry: CollectorRegistry | None = None,
        cache: FoldCache | None = None,
        bind: Callable[[AsyncConnection], IngestTransaction] = PostgresIngestTransaction,
    ) -> None:
        self._suffix = topic_suffix
        self._bind = bind
        self._metrics = IngestMetrics(registry) if registry is not None else None
        self.cache = FoldCache() if cache is None else cache
        self.appended = 0
        self.dead_lettered = 0
        self.refreshed = 0
        self.seconds = dict.fromkeys(STEPS, 0.0)
        """Time spent per step since start (for benchmarks and the step metric)."""

    async def __call__(self, conn: AsyncConnection, records: Sequence[ConsumerRecord]) -> None:
        """The consumer's handler: `apply` on the ports bound to its connection."""
        await self.apply(self._bind(conn), records)

    async def apply(self, tx: IngestTransaction, records: Sequence[ConsumerRecord]) -> None:
        """Ingest `records` through the ports of one transaction (`tx`)."""
        started = time.perf_counter()
        clock = _Clock(self.seconds)
        batch, dead = decode_records(records, self._suffix)
        clock.lap("decode")
        appended = await tx.events.append(batch)
        clock.lap("append")
        # One refresh per subject per batch, whatever number of its events the batch
        # holds: a bigger batch folds, renders and writes each subject fewer times.
        touched = list(dict.fromkeys(e.stream for e in appended))
        # Read under the append turn (held since store.append): the other lane cannot
        # be refreshing meanwhile, so the difference is this batch's own.
        hits, misses = self.cache.hits, self.cache.misses
        await tx.outbox.enqueue(dead)
        refreshed = 0
        for subjects in store.chunks(touched, REFRESH_CHUNK):
            projections = await refresh.refresh(
                tx.projections, subjects, appended, self.cache, clock.lap
            )
            statuses = [status_message(p, self._suffix) for p in projections]
            clock.lap("status")
            await tx.outbox.enqueue(statuses)
            clock.lap("outbox")
            refreshed += len(projections)
        hits, misses = self.cache.hits - hits, self.cache.misses - misses
        self.appended += len(appended)
        self.dead_lettered += len(dead)
        self.refreshed += refreshed
        if self._metrics is not None:
            self._metrics.appended.inc(len(appended))
            self._metrics.duplicates.inc(len(batch) - len(appended))
            self._metrics.dead.inc(len(dead))
            self._metrics.subjects.inc(refreshed)
            self._metrics.batch.observe(time.perf_counter() - started)
            for step, seconds in clock.laps.items():
                self._metrics.steps.labels(step).inc(seconds)
            self._metrics.cache.labels("hit").inc(hits)
            self._metrics.cache.labels("miss").inc(misses)


def decode_records(
    records: Sequence[ConsumerRecord], topic_suffix: str = ""
) -> tuple[list[tuple[Envelope, store.SourceRef | None]], list[OutboxMessage]]:
    """The batch's envelopes with their sources, in record order, and a dead letter
    for each poison record (pure: tests/unit/test_ledger_ingest_decode.py)."""
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
            log.warning("dead-lettering %s[%s]@%s: %s", r.topic, r.partition, r.offset, exc.reason)
            dead.append(dead_letter(r, exc.reason, CONSUMER, topic_suffix))
            continue
        batch.append((env, store.SourceRef(r.topic, r.partition, r.offset)))
    return batch, dead


class _Clock:
    def __init__(self, totals: dict[str, float]) -> None:
        self._totals = totals
        self._last = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, step: str) -> None:
        now = time.perf_counter()
        self.laps[step] = now - self._last
        self._totals[step] += now - self._last
        self._last = now
