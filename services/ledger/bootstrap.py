"""Wires the ledger: engine, producer, the event store (the `EventStore` port of
ports.py, on Postgres), the two ingest lanes, the projector (projector.py: the
projections and status messages of what ingest queued), outbox relay.

Why two lanes (one consumer per topic) and not one consumer of both topics: a court
list of 10,000 debtors brings ~490,000 feedback events behind its 10,000
designations. One consumer reading both topics hands over whatever its fetches hold,
so designations waited behind a flood of feedback (minutes) before they showed in
the ledger. With a lane per topic, each lane's batches take turns with the other's at
the append lock (Postgres grants a waiting advisory lock in request order), so a
designation waits at most one feedback batch, however long the feedback backlog.

Why this keeps ingest correct:
- both lanes append through the same `store.append`, under the same append lock,
  which is held to the end of the transaction: the per-subject hash chain and stream
  versions are assigned by one writer at a time; projections are written by the
  projector alone, under its own turn (projection_queue.py);
- each lane stores its own offsets (consumer name `ledger.ingest.<lane>`, rows keyed
  by topic and partition) with its batch, in its transaction: exactly-once per lane,
  as before; migration 0003 carried the single consumer's rows over;
- the order between the two topics was never given (they are different topics): a
  subject's stream interleaves them in whatever order they were appended, and the
  domain's fold keeps lifecycle and feedback apart, so every interleaving folds to the
  same status (tests/integration/test_ledger_ingest.py, feedback before designation).
  Within a topic, a subject's records keep their order: a subject is one partition
  and each lane applies a partition's records in order, one batch after the other.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from services.ledger import tables
from services.ledger.dashboard.overdue_gauge import refresher
from services.ledger.heap_trim import trimmer
from services.ledger.ingest import CONSUMER, Ingest
from services.ledger.ingest_postgres import PostgresLedger
from services.ledger.settings import LedgerSettings
from services.ledger.snapshot_store_postgres import stored_snapshots
from services.ledger.snapshots import Snapshots
from services.ledger.store import PostgresEventStore
from shared.adapters import topics
from shared.adapters.consumer import TransactionalConsumer
from shared.adapters.runtime import ServiceRuntime

LANES = {"designations": topics.DESIGNATIONS, "feedback": topics.FEEDBACK}
"""Ingest lane → the topic it consumes (without the suffix)."""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: LedgerSettings = app.state.settings
    async with ServiceRuntime.open(
        app, settings, client_id="jsb-ledger", outbox=tables.outbox
    ) as rt:
        app.state.event_store = events = PostgresEventStore(rt.engine, tables.events)
        stored = stored_snapshots(rt.engine, events, settings.snapshot_every)
        app.state.snapshots = Snapshots(
            settings.snapshot_every, settings.snapshot_capacity, stored=stored
        )
        projector = settings.projector(PostgresLedger(rt.engine), app.state.metrics, stored)
        ingest = Ingest(settings.topic_suffix, app.state.metrics, projector.hand_over)
        app.state.ingest, app.state.projector = ingest, projector
        for lane, topic in LANES.items():
            rt.consume(
                name=f"{CONSUMER}.{lane}",
                group_id=f"{settings.group_id}.{lane}",
                topics=[topic + settings.topic_suffix],
                offsets=tables.consumer_offsets,
                handler=ingest,
                consumer_factory=_batches_of(settings.lane_batch_size(lane)),
            )
        rt.loops.start("projector", projector.run)
        rt.loops.start(
            "overdue-gauge", refresher(rt.engine, app.state.backbone_metrics.tasks_overdue)
        )
        if settings.heap_trim_bytes > 0:
            rt.loops.start("heap-trim", trimmer(settings.heap_trim_bytes))
        yield


def _batches_of(max_records: int) -> Callable[..., TransactionalConsumer]:
    """A lane's consumer, polling up to `max_records` per batch (settings.py says why
    the feedback lane's are bigger)."""

    def build(**kwargs: Any) -> TransactionalConsumer:
        return TransactionalConsumer(**{**kwargs, "max_records": max_records})

    return build
