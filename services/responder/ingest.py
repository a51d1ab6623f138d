"""Ingest: designation events in, the local store and each department's reading list out.

One Kafka consumer for the whole process (not one per department): Kafka cannot
filter by department, so N consumers would each read and decode every event only to
drop most of them (measured in docs/responder.md). The ingest does that once:
decodes, keeps the events of designations that concern a hosted department, indexes
the subject's identifiers and writes a `deliveries` row per concerned department —
in the transaction that stores the Kafka offsets (exactly once in effect). The
departments then apply their deliveries independently (services/responder/lanes.py).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from uuid import UUID

from aiokafka import ConsumerRecord
from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.responder import index_store, tables
from services.responder.hosting import Hosting
from services.responder.live_index import IndexChanges
from services.responder.metrics import ResponderMetrics
from shared.adapters.deadletter import dead_letter
from shared.adapters.outbox import OutboxMessage, enqueue
from shared.adapters.screen import refuse_nul
from shared.domain.envelope import Envelope
from shared.domain.events import decode_bytes
from shared.domain.identifiers import IdentifierError, IdKind, org_code_of_uscc, parse_identifier
from shared.domain.lifecycle_events import (
    DesignationAmended,
    DesignationIssued,
    LifecycleEvent,
    amended_value,
)
from shared.domain.vocabulary import Polarity
from shared.domain.wire import PoisonMessage

log = logging.getLogger(__name__)

CONSUMER = "responder.ingest"

# Why a lock: `position` comes from an identity column, and two ingest transactions
# (two instances sharing the partitions) could commit positions out of order; a
# department reading "after my cursor" would then skip the one committed later.
# Serialising ingest transactions makes positions visible in order. The lock is
# transaction-scoped, taken once per batch: cheap next to the batch itself. Keyed by
# the schema, as the ledger's append lock is: responders in other schemas of the same
# database (a test's, another deployment's) do not share positions, so they need not
# wait for each other (they did: tests/integration/test_responder_lanes.py).
INGEST_LOCK = (
    "SELECT pg_advisory_xact_lock(hashtextextended('jsb.responder.ingest.' || current_schema(), 0))"
)


def identifiers_of(event: DesignationIssued) -> set[str]:
    """Every identifier a check may use: those the designation carries, and the
    organisation code embedded in a USCC (an organisation may be known by its older code)."""
    found = {event.subject_id, *event.identifiers}
    for value in list(found):
        try:
            if parse_identifier(value).kind is IdKind.USCC:
                found.add(org_code_of_uscc(value))
        except IdentifierError:
            continue
    return found


class Ingest:
    """The ingest consumer's batch handler."""

    def __init__(
        self, hosting: Hosting, topic_suffix: str = "", metrics: ResponderMetrics | None = None
    ) -> None:
        self._hosting = hosting
        self._suffix = topic_suffix
        self._metrics = metrics
        self.touched: set[str] = set()
        """Departments given deliveries since the last `take_touched()`."""
        self.stored = 0
        self.dead_lettered = 0
        self._written = IndexChanges()
        """What the last batch wrote to the restriction index (for the in-process copy,
        once that batch's transaction has committed: see live_index.py)."""

    def take_written(self) -> IndexChanges:
        written, self._written = self._written, IndexChanges()
        return written

    def take_touched(self) -> set[str]:
        touched, self.touched = self.touched, set()
        return touched

    async def __call__(self, conn: AsyncConnection, records: Sequence[ConsumerRecord]) -> None:
        self._written = IndexChanges()
        identifiers: list[tuple[str, str]] = []
        await conn.execute(text(INGEST_LOCK))
        concerned: dict[UUID, set[str] | None] = {}
        dead: list[OutboxMessage] = []
        changed: set[str] = set()
        for r in records:
            try:
                envelope, event = decode_bytes(r.value)
                refuse_nul(r.value)
                if not isinstance(event, LifecycleEvent):
                    raise PoisonMessage(f"{envelope.type} is not a lifecycle event")
            except PoisonMessage as exc:
                log.warning("dead-lettering %s[%s]@%s: %s", r.topic, r.partition, r.offset, exc)
                dead.append(dead_letter(r, exc.reason, CONSUMER, self._suffix))
                continue
            departments = await self._concerned(conn, envelope, event, concerned, identifiers)
            if departments is not None and await self._store(conn, r, envelope, event, departments):
                changed.add(envelope.subject)
        # The index is rewritten in the transaction that stores the events: a check
        # never sees an event stored and not indexed (one fold per subject per batch).
        written = await index_store.refresh(conn, changed, self._hosting.departments)
        self._written = IndexChanges(written.rows, identifiers)
        await enqueue(conn, tables.outbox, dead)
        self.dead_lettered += len(dead)
        if self._metrics is not None and dead:
            self._metrics.dead_letters.labels("ingest").inc(len(dead))

    async def _concerned(
        self,
        conn: AsyncConnection,
        envelope: Envelope,
        event: LifecycleEvent,
        known: dict[UUID, set[str] | None],
        identifiers: list[tuple[str, str]],
    ) -> set[str] | None:
        """The hosted departments the event concerns; None: the event is not kept."""
        did = event.designation_id
        if isinstance(event, DesignationIssued):
            departments = self._hosting.concerned(event.tasks)
            cross_check = self._hosting.watch_sanctions and event.polarity is Polarity.SANCTION
            if not departments and not cross_check:
                known[did] = None
                return None
            identifiers.extend(await self._keep(conn, event, departments))
            known[did] = departments
            return departments
        if did not in known:
            d = tables.designations
            row = (
                await conn.execute(select(d.c.departments).where(d.c.designation_id == did))
            ).first()
            known[did] = None if row is None else set(row.departments)
        current = known[did]
        if current is not None and isinstance(event, DesignationAmended):
            current = await self._widen(conn, event, current)
            known[did] = current
        return current

    async def _keep(
        self, conn: AsyncConnection, event: DesignationIssued, departments: set[str]
    ) -> list[tuple[str, str]]:
        d, i = tables.designations, tables.subject_identifiers
        await conn.execute(
            pg_insert(d)
            .values(
                designation_id=event.designation_id,
                subject_id=event.subject_id,
                departments=sorted(departments),
            )
            .on_conflict_do_nothing(index_elements=["designation_id"])
        )
        rows = [{"identifier": v, "subject_id": event.subject_id} for v in identifiers_of(event)]
        await conn.execute(pg_insert(i).values(rows).on_conflict_do_nothing())
        return [(r["identifier"], r["subject_id"]) for r in rows]

    async def _widen(
        self, conn: AsyncConnection, event: DesignationAmended, current: set[str]
    ) -> set[str]:
        """An amendment of the measures may give a hosted department a task."""
        change = event.changes.get("tasks")
        if change is None:
            return current
        added = self._hosting.concerned(amended_value("tasks", change.new)) - current
        if not added:
            return current
        widened = current | added
        d = tables.designations
        await conn.execute(
            d.update()
            .where(d.c.designation_id == event.designation_id)
            .values(departments=sorted(widened))
        )
        return widened

    async def _store(
        self,
        conn: AsyncConnection,
        record: ConsumerRecord,
        envelope: Envelope,
        event: LifecycleEvent,
        departments: set[str],
    ) -> bool:
        """Store the event and deliver it; False if it was already stored."""
        e = tables.designation_events
        position = await conn.scalar(
            pg_insert(e)
            .values(
                event_id=envelope.id,
                subject_id=envelope.subject,
                designation_id=event.designation_id,
                type=envelope.type,
                effective_at=envelope.time,
                envelope=envelope.model_dump(mode="json"),
                source_partition=record.partition,
                source_offset=record.offset,
            )
            .on_conflict_do_nothing(index_elements=["event_id"])
            .returning(e.c.position)
        )
        if position is None:  # published twice by a relay: already stored and delivered
            return False
        self.stored += 1
        if departments:
            rows = [{"department": dept, "position": position} for dept in sorted(departments)]
            await conn.execute(tables.deliveries.insert(), rows)
            self.touched |= departments
        return True
