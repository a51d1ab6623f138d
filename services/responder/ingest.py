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
from dataclasses import dataclass, field
from uuid import UUID

from aiokafka import ConsumerRecord

from services.responder.fold_memo import FoldMemo
from services.responder.folds import Decoded
from services.responder.hosting import Hosting
from services.responder.live_index import IndexChanges
from services.responder.metrics import ResponderMetrics
from services.responder.ports import Incoming, Kept, ResponderUnit
from shared.adapters.deadletter import dead_letter
from shared.adapters.screen import refuse_nul
from shared.domain.envelope import Envelope
from shared.domain.event_base import DomainEvent
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
from shared.ports import OutboxMessage

log = logging.getLogger(__name__)

CONSUMER = "responder.ingest"


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
        self,
        hosting: Hosting,
        topic_suffix: str = "",
        metrics: ResponderMetrics | None = None,
        memo: FoldMemo | None = None,
    ) -> None:
        self._hosting = hosting
        self._suffix = topic_suffix
        self._metrics = metrics
        self._memo = memo
        """The departments' memo (fold_memo.py): given each refreshed subject's fold."""
        self.touched: dict[str, int] = {}
        """Departments given deliveries since the last `take_touched()`, each with the
        last position delivered to it."""
        self.stored = 0
        self.dead_lettered = 0
        self._written = IndexChanges()
        """What the last batch wrote to the restriction index (for the in-process copy,
        once that batch's transaction has committed: see live_index.py)."""

    def take_written(self) -> IndexChanges:
        written, self._written = self._written, IndexChanges()
        return written

    def take_touched(self) -> dict[str, int]:
        touched, self.touched = self.touched, {}
        return touched

    async def __call__(self, unit: ResponderUnit, records: Sequence[ConsumerRecord]) -> None:
        """Apply one batch in the unit's transaction (the consumer's, beside its
        offsets): take the ingest's turn (positions become visible in order), keep and
        deliver the events, rewrite the index of the subjects they changed, and
        dead-letter what cannot be read.

        Why the batch's designations, events and deliveries are each written in one
        statement (not three per event, as before): each round trip cost the ingest
        ~80 us of CPU, as much as the statement's own work (docs/benchmarks.md, "The
        responder's CPU per debtor (third pass)"). What each event does is decided in
        the batch's order, as before; only the writes are gathered."""
        self._written = IndexChanges()
        await unit.events.take_ingest_turn()
        dead: list[OutboxMessage] = []
        decoded: list[tuple[ConsumerRecord, Envelope, LifecycleEvent]] = []
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
            decoded.append((r, envelope, event))
        later = {e.designation_id for _, _, e in decoded if not isinstance(e, DesignationIssued)}
        batch = _Batch(await unit.events.departments_of_many(later))
        for r, envelope, event in decoded:
            departments = await self._concerned(unit, event, batch)
            if departments is not None:
                incoming = Incoming(envelope, event.designation_id, r.partition, r.offset)
                batch.incoming.append((incoming, departments, event))
        changed, stored = await self._store(unit, batch)
        # The index is rewritten in the transaction that stores the events: a check
        # never sees an event stored and not indexed (one fold per subject per batch),
        # the events this batch stored as decoded here (once: folds.fold_decoded).
        written = await unit.index.refresh(changed, self._hosting.departments, stored)
        self._written = IndexChanges(written.rows, batch.identifiers)
        if self._memo is not None:
            for subject, (position, folded) in written.folds.items():
                self._memo.put(subject, position, folded)
        await unit.outbox.enqueue(dead)
        self.dead_lettered += len(dead)
        if self._metrics is not None and dead:
            self._metrics.dead_letters.labels("ingest").inc(len(dead))

    async def _concerned(
        self, unit: ResponderUnit, event: LifecycleEvent, batch: _Batch
    ) -> set[str] | None:
        """The hosted departments the event concerns; None: the event is not kept."""
        did = event.designation_id
        known = batch.known
        if isinstance(event, DesignationIssued):
            departments = self._hosting.concerned(event.tasks)
            cross_check = self._hosting.watch_sanctions and event.polarity is Polarity.SANCTION
            if not departments and not cross_check:
                known[did] = None
                return None
            kept = sorted(identifiers_of(event))
            batch.kept.append(Kept(did, event.subject_id, departments, kept))
            batch.identifiers.extend((v, event.subject_id) for v in kept)
            known[did] = departments
            return departments
        if did not in known:
            known[did] = batch.stored.get(did)
        current = known[did]
        if current is not None and isinstance(event, DesignationAmended):
            current = await self._widen(unit, event, current, batch)
            known[did] = current
        return current

    async def _widen(
        self, unit: ResponderUnit, event: DesignationAmended, current: set[str], batch: _Batch
    ) -> set[str]:
        """An amendment of the measures may give a hosted department a task."""
        change = event.changes.get("tasks")
        if change is None:
            return current
        added = self._hosting.concerned(amended_value("tasks", change.new)) - current
        if not added:
            return current
        widened = current | added
        await batch.keep(unit)  # the designation may be one of the batch's, not kept yet
        await unit.events.widen(event.designation_id, widened)
        return widened

    async def _store(self, unit: ResponderUnit, batch: _Batch) -> tuple[set[str], Decoded]:
        """Keep the batch's designations, store its events and deliver them (an event
        already stored, published twice by a relay, is neither stored nor delivered
        again); the subjects whose events were stored, and those events as decoded."""
        await batch.keep(unit)
        positions = await unit.events.append_many([i for i, _, _ in batch.incoming])
        changed: set[str] = set()
        stored: dict[UUID, tuple[Envelope, DomainEvent]] = {}
        deliveries: list[tuple[int, set[str]]] = []
        for (incoming, departments, event), position in zip(batch.incoming, positions, strict=True):
            if position is None:
                continue
            self.stored += 1
            stored[incoming.envelope.id] = (incoming.envelope, event)
            changed.add(incoming.envelope.subject)
            if departments:
                deliveries.append((position, departments))
                self.touched.update(dict.fromkeys(departments, position))
        await unit.deliveries.deliver_many(deliveries)
        return changed, stored


@dataclass
class _Batch:
    """What one batch decided, in its order, before it is written."""

    stored: dict[UUID, set[str]]
    """The departments of the batch's designations kept before it (one query)."""
    known: dict[UUID, set[str] | None] = field(default_factory=dict)
    kept: list[Kept] = field(default_factory=list)
    """Designations to keep, not written yet."""
    identifiers: list[tuple[str, str]] = field(default_factory=list)
    """(identifier, subject) of the designations kept, for the in-process index."""
    incoming: list[tuple[Incoming, set[str], LifecycleEvent]] = field(default_factory=list)
    """The events to store, each with the hosted departments it concerns and its data."""

    async def keep(self, unit: ResponderUnit) -> None:
        """Write the designations gathered so far."""
        if self.kept:
            await unit.events.keep_many(self.kept)
            self.kept = []
