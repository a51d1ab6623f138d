"""The projector: refreshes the projection rows of the subjects ingest queued, a
moment after their events were appended, and publishes their new statuses.

Why off the append path: a refresh (fold, render the whole status, write the rows, a
~26 KB status message that the relay and the notifier pay for again) is the unit of
the ledger's cost, and a court debtor's ~30 departmental answers come over several
polled batches: refreshed in the ingest transaction, it was refreshed after each of
them (~4–5 times per designation, docs/benchmarks.md "Ledger"). Ingest now appends
and queues the subject (ingest.py); the projector takes queued subjects oldest
first, a moment later, so every batch that arrived meanwhile costs one refresh.

Why still exactly-once:
- ingest's transaction keeps the events, the offsets and the queue row together: a
  committed event always has its subject queued (projection_queue.py);
- a projection round's transaction keeps the rows, the status messages (outbox) and
  the unqueueing together, and unqueues a subject only up to the head it projected:
  a crash before its commit leaves the queue as it was (the next round, or the next
  process, projects the subject again); after its commit the subject is unqueued
  and its status message is in the outbox once. A subject queued again by a batch
  that committed meanwhile stays queued for its new events;
- the rows are a pure function of the events up to the head (read_models/rows.py):
  projecting after several batches gives the same rows as projecting after each.

Why a debounce (`max_delay_s`): with a fixed delay after a subject was first queued,
a court designation cost two refreshes at full speed, one for its issue and one for
its departments' answers, which come a moment later over several batches. A subject
is now projected once no batch has queued it for the delay (quiet), but never later
than the bound after it was first queued, so that the issue and the answers that
follow it within the delay share one refresh, and a subject that keeps getting
events is still projected every bound (docs/benchmarks.md, Ledger, "Fifth round").

What lags: the projection rows (stats, public lists, the dashboard, the feed's
designation rows) and the status stream, by the queue (metrics
`ledger_projection_queue_depth`, `ledger_projection_queue_oldest_seconds`). What does
not: status and history (folded from the events at read time) and finding a
subject by identifier or designation id (written by ingest: lookup_store.py).

The events ingest appended are handed over in memory (`hand_over`) so that they are
neither read back nor decoded again; `Pending` says when they are used.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from services.ledger import store
from services.ledger.fold_cache import FoldCache
from services.ledger.ingest import Clock
from services.ledger.pending import Pending
from services.ledger.ports import IngestTransaction
from services.ledger.read_models import refresh
from services.ledger.status_stream import status_message
from services.ledger.stored_snapshots import StoredSnapshots
from shared.adapters.runner import first_of
from shared.ports import Transactions

log = logging.getLogger(__name__)

STEPS = ("take", "fold", "project", "write", "status", "outbox", "done", "snapshots")
"""The steps of a projection round (`Projector.seconds`, metric
ledger_projection_step_seconds): `take` includes waiting for the projection turn,
`fold` reading the streams neither the fold cache nor the handed-over events cover
(from their stored snapshots on, with `stored`), `snapshots` storing the states the
round's folds kept, after its commit (stored_snapshots.py)."""

REFRESH_CHUNK = 25
"""Subjects refreshed together within a round. Why not all of them at once: each
refreshed subject holds its rendered status, its rows, their JSON and its status
message (~0.3 MB for a court debtor) until they are written. In chunks the round's
peak is bounded by the chunk, at the cost of a few more statements per round (same
transaction, same rows, same messages in the same order). 25 since the soak
(docs/reliability.md, "The ledger's RSS: what grows"): the process keeps the
high-water mark of these transients, so a chunk of 100 court debtors (~30 MB) coming
late in a run showed as growth."""


class ProjectorMetrics:
    def __init__(self, registry: CollectorRegistry | None) -> None:
        self.subjects = Counter(
            "ledger_subjects_refreshed", "Subject projections refreshed", registry=registry
        )
        self.cache = Counter(
            "ledger_fold_cache_lookups",
            "Fold cache lookups by outcome (a miss reads the stream back)",
            ["outcome"],
            registry=registry,
        )
        self.round = Histogram(
            "ledger_projection_round_seconds", "Time of one projection round", registry=registry
        )
        self.steps = Counter(
            "ledger_projection_step_seconds",
            "Time spent in each step of the projector",
            ["step"],
            registry=registry,
        )
        self.depth = Gauge(
            "ledger_projection_queue_depth",
            "Subjects whose projection is behind their events",
            registry=registry,
        )
        self.oldest = Gauge(
            "ledger_projection_queue_oldest_seconds",
            "Age of the oldest queued subject (how far the projections lag)",
            registry=registry,
        )


class Projector:
    """Projects queued subjects in rounds of at most `batch`, on the ports of
    ports.py (`ledger.begin()`: one transaction per round).

    `delay_s`: after a batch commits (`hand_over` wakes the projector), it waits this
    long and takes only subjects queued at least this long ago, so that the
    answers that arrive together are projected together; with `max_delay_s`, a
    subject is taken once no batch has queued it for `delay_s` (quiet), or once it
    was first queued `max_delay_s` ago (the bound), whichever comes first — a
    debounce (why: module docstring); `poll_s`: it also looks every this often
    (subjects queued by another instance, or before a restart)."""

    def __init__(
        self,
        ledger: Transactions[IngestTransaction],
        topic_suffix: str = "",
        registry: CollectorRegistry | None = None,
        cache: FoldCache | None = None,
        batch: int = 200,
        delay_s: float = 0.0,
        poll_s: float = 1.0,
        pending: Pending | None = None,
        max_delay_s: float | None = None,
        stored: StoredSnapshots | None = None,
    ) -> None:
        self._ledger = ledger
        self._suffix = topic_suffix
        self._metrics = ProjectorMetrics(registry) if registry is not None else None
        self.cache = FoldCache() if cache is None else cache
        self.pending = Pending() if pending is None else pending
        self.batch = batch
        self.delay_s = delay_s
        self.max_delay_s = max_delay_s
        self.poll_s = poll_s
        self.stored = stored
        self._wake = asyncio.Event()
        self.refreshed = 0
        self.rounds = 0
        self.seconds = dict.fromkeys(STEPS, 0.0)
        """Time spent per step since start (for benchmarks and the step metric)."""

    def hand_over(self, appended: Sequence[store.StoredEvent]) -> None:
        """Ingest's batch appended `appended` (not yet committed): keep them for the
        round that projects their subjects, and wake the projector."""
        self.pending.add(appended)
        self._wake.set()

    async def project_once(self) -> int:
        """One round: project the oldest queued subjects (at most `batch`), in one
        transaction. Returns the number of subjects projected."""
        started = time.perf_counter()
        clock = Clock(self.seconds)
        hits, misses = self.cache.hits, self.cache.misses
        async with self._ledger.begin() as tx:
            if self.max_delay_s is None:
                queued = await tx.queue.take(self.batch, self.delay_s)
            else:
                queued = await tx.queue.take(self.batch, self.max_delay_s, quiet_s=self.delay_s)
            clock.lap("take")
            heads: dict[str, int] = {}
            refreshed = 0
            for part in store.chunks(queued, REFRESH_CHUNK):
                # A round that read a stream past its queued position projected the
                # newer events already: unqueued, not projected (nor published) again.
                stored = await tx.projections.heads([q.subject_id for q in part])
                heads.update(stored)
                chunk = [q for q in part if stored.get(q.subject_id, 0) < q.last_position]
                subjects = [q.subject_id for q in chunk]
                known = self.pending.chains(
                    {q.subject_id: q.last_position for q in chunk}, self.cache.holds
                )
                projections = await refresh.refresh(
                    tx.projections, subjects, known, self.cache, clock.lap, self.stored
                )
                statuses = [status_message(p, self._suffix) for p in projections]
                clock.lap("status")
                await tx.outbox.enqueue(statuses)
                clock.lap("outbox")
                heads.update((p.subject_id, p.head.position) for p in projections)
                refreshed += len(projections)
            await tx.queue.done(heads)
            depth = await tx.queue.depth()
            clock.lap("done")
        # Committed: what was projected is of no further use in memory.
        self.pending.projected(heads)
        if self.stored is not None:
            await self.stored.flush()
            clock.lap("snapshots")
        hits, misses = self.cache.hits - hits, self.cache.misses - misses
        self.refreshed += refreshed
        self.rounds += 1 if queued else 0
        if self._metrics is not None:
            self._metrics.subjects.inc(refreshed)
            self._metrics.cache.labels("hit").inc(hits)
            self._metrics.cache.labels("miss").inc(misses)
            self._metrics.depth.set(depth.subjects)
            oldest = depth.oldest
            self._metrics.oldest.set(
                0.0 if oldest is None else (datetime.now(UTC) - oldest).total_seconds()
            )
            if queued:
                self._metrics.round.observe(time.perf_counter() - started)
                for step, seconds in clock.laps.items():
                    self._metrics.steps.labels(step).inc(seconds)
        return len(queued)

    async def drain(self) -> int:
        """Project until nothing settled is queued (tests, benchmarks, rebuilds).
        Returns the number of subjects projected."""
        done = 0
        while n := await self.project_once():
            done += n
        return done

    async def run(self, stop: asyncio.Event) -> None:
        """The loop the runtime starts: a round whenever a batch committed (after
        `delay_s`) or every `poll_s`, rounds back to back while the queue is full; a
        failed round (Postgres away) is logged and tried again."""
        while not stop.is_set():
            try:
                full = await self.project_once() >= self.batch
            except Exception as exc:
                log.warning("projection round failed: %s", type(exc).__name__)
                full = False
            if full:
                continue
            woken = await first_of(self._wake.wait(), stop, self.poll_s)
            self._wake.clear()
            if woken and self.delay_s > 0:
                await first_of(stop.wait(), stop, self.delay_s)
