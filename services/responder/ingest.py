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

from services.responder.fold_memo import FoldMemo
from services.responder.hosting import Hosting
from services.responder.live_index import IndexChanges
from services.responder.metrics import ResponderMetrics
from services.responder.ports import ResponderUnit
from shared.adapters.deadletter import dead_letter
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

    async def __call__(self, unit: ResponderUnit, records: Sequence[ConsumerRecord]) -> None:
        """Apply one batch in the unit's transaction (the consumer's, beside its
        offsets): take the ingest's turn (positions become visible in order), keep and
        deliver the events, rewrite the index of the subjects they changed, and
        dead-letter what cannot be read."""
        self._written = IndexChanges()
        identifiers: list[tuple[str, str]] = []
        await unit.events.take_ingest_turn()
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
            departments = await self._concerned(unit, event, concerned, identifiers)
            if departments is not None and await self._store(unit, r, envelope, event, departments):
                changed.add(envelope.subject)
        # The index is rewritten in the transaction that stores the events: a check
        # never sees an event stored and not indexed (one fold per subject per batch).
        written = await unit.index.refresh(changed, self._hosting.departments)
        self._written = IndexChanges(written.rows, identifiers)
        if self._memo is not None:
            for subject, (position, folded) in written.folds.items():
                self._memo.put(subject, position, folded)
        await unit.outbox.enqueue(dead)
        self.dead_lettered += len(dead)
        if self._metrics is not None and dead:
            self._metrics.dead_letters.labels("ingest").inc(len(dead))

    async def _concerned(
        self,
        unit: ResponderUnit,
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
            kept = sorted(identifiers_of(event))
            await unit.events.keep(did, event.subject_id, departments, kept)
            identifiers.extend((v, event.subject_id) for v in kept)
            known[did] = departments
            return departments
        if did not in known:
            known[did] = await unit.events.departments_of(did)
        current = known[did]
        if current is not None and isinstance(event, DesignationAmended):
            current = await self._widen(unit, event, current)
            known[did] = current
        return current

    async def _widen(
        self, unit: ResponderUnit, event: DesignationAmended, current: set[str]
    ) -> set[str]:
        """An amendment of the measures may give a hosted department a task."""
        change = event.changes.get("tasks")
        if change is None:
            return current
        added = self._hosting.concerned(amended_value("tasks", change.new)) - current
        if not added:
            return current
        widened = current | added
        await unit.events.widen(event.designation_id, widened)
        return widened

    async def _store(
        self,
        unit: ResponderUnit,
        record: ConsumerRecord,
        envelope: Envelope,
        event: LifecycleEvent,
        departments: set[str],
    ) -> bool:
        """Store the event and deliver it; False if it was already stored."""
        position = await unit.events.append(
            envelope, event.designation_id, record.partition, record.offset
        )
        if position is None:  # published twice by a relay: already stored and delivered
            return False
        self.stored += 1
        if departments:
            await unit.deliveries.deliver(position, departments)
            self.touched |= departments
        return True
