"""A consumed batch of jsb.status.v1 → the status log, the subject's latest status,
deliveries for every matching subscription, notices, watched deadlines and
interception counts: ONE transaction, with the consumer's offsets
(shared/adapters/consumer.py). So a crash keeps all of it or none of it, and a
status change consumed twice (the ledger re-publishes after a crash with the same
message id) is dropped by the unique `message_id`: no delivery is enqueued twice,
and a delivery's `webhook_id` is derived from (subscription, message id), so even a
rebuilt queue would carry the same id.

The status log, the subscriptions, the queue and the notices are reached through the
`Webhooks` port (ports.py) bound to the consumer's connection; the latest statuses,
watched deadlines and interception counts are this module's own tables.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid5

from aiokafka import ConsumerRecord
from pydantic import ValidationError
from sqlalchemy import delete, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.notifier import tables
from services.notifier.changes import changes, facets
from services.notifier.filters import Filters, passes
from services.notifier.notices import Notice, on_changes, watch_items
from services.notifier.ports import DISABLED, NewDelivery, Webhooks
from shared.adapters.deadletter import dead_letter
from shared.adapters.outbox import enqueue
from shared.adapters.screen import refuse_nul
from shared.domain.catalogue.index import CatalogueIndex
from shared.domain.china_time import china_date
from shared.domain.envelope import Envelope
from shared.domain.status_models import StatusChanged

log = logging.getLogger(__name__)

CONSUMER = "notifier.status"
_LOCK = 1414  # advisory-lock class of the status log's append turn
_WEBHOOK_IDS = UUID("8f0e5b1c-6a2d-4e37-9c41-77656268686f")


def webhook_id(subscription_id: UUID, message_id: UUID) -> str:
    """Stable for one message to one subscriber: every retry and re-send carries it."""
    return "msg_" + uuid5(_WEBHOOK_IDS, f"{subscription_id}:{message_id}").hex


class Ingest:
    def __init__(
        self,
        catalogue: CatalogueIndex,
        webhooks: Callable[[AsyncConnection], Webhooks],
        suffix: str,
    ) -> None:
        self.catalogue, self.webhooks, self.suffix = catalogue, webhooks, suffix

    async def __call__(self, conn: AsyncConnection, records: Sequence[ConsumerRecord]) -> None:
        # Why the lock: positions come from an identity column, allocated at insert and
        # visible at commit. Readers follow positions (the live stream, recovery); if two
        # instances' batches committed out of order, a reader past the later one would
        # skip the earlier one forever. Batches take turns (as the ledger's appends do,
        # docs/ledger.md "Global order readers can trust"), so positions appear in order.
        await conn.execute(
            text("SELECT pg_advisory_xact_lock(:c, hashtext(current_schema()))"), {"c": _LOCK}
        )
        tx = self.webhooks(conn)
        # Locked (shared): an `enable` or `delete` waits for this batch, so a delivery
        # queued `held` for a disabled subscription is released (or cancelled) by it.
        batch = _Batch(
            [
                _Sub(s.id, Filters.model_validate(s.filters), s.state == DISABLED)
                for s in await tx.subscriptions.listed(lock=True)
            ]
        )
        decoded: list[tuple[Envelope, str]] = []
        dead = []
        for record in records:
            try:
                envelope = Envelope.from_json_bytes(record.value)
                refuse_nul(record.value)
                if envelope.type != StatusChanged.TYPE:
                    raise ValueError(f"unexpected type {envelope.type}")
                StatusChanged.model_validate(envelope.data)  # a wrong schema is poison
                decoded.append((envelope, record.value.decode()))
            except (ValidationError, ValueError) as exc:
                dead.append(dead_letter(record, str(exc)[:500], CONSUMER, self.suffix))
        if dead:
            await enqueue(conn, tables.outbox, dead)
        batch.latest = await _latest(conn, {e.subject for e, _ in decoded})
        for envelope, body in decoded:
            await self._apply(tx, batch, envelope, body)
        await self._finish(conn, tx, batch)

    async def _apply(self, tx: Webhooks, batch: _Batch, envelope: Envelope, body: str) -> None:
        subject, data = envelope.subject, envelope.data
        found = changes(batch.latest.get(subject), data)
        facet = facets(data, found)
        position = await tx.status_log.append(envelope.id, subject, facet, body)
        if position is None:
            log.info("status message %s seen before: dropped", envelope.id)
            return
        batch.latest[subject] = data
        batch.touched[subject] = position
        batch.deliveries += [
            NewDelivery(s.id, position, subject, webhook_id(s.id, envelope.id), s.held)
            for s in batch.subscriptions
            if passes(s.filters, facet, subject)
        ]
        batch.notices += on_changes(self.catalogue, subject, found)
        month = china_date(envelope.time).strftime("%Y-%m")
        for c in found:
            if c.type == "jsb.feedback.intercepted":
                batch.interceptions[(month, c.detail["task"]["measure"])] += c.detail["count"]

    async def _finish(self, conn: AsyncConnection, tx: Webhooks, batch: _Batch) -> None:
        """What only the batch's last status of each subject decides, written once."""
        await tx.queue.enqueue(batch.deliveries)
        await tx.notices.tell(batch.notices)
        if not batch.touched:
            return
        latest = pg_insert(tables.subject_latest)
        await conn.execute(
            latest.on_conflict_do_update(
                index_elements=["subject_id"],
                set_={"position": latest.excluded.position, "status": latest.excluded.status},
            ),
            [
                {"subject_id": s, "position": p, "status": batch.latest[s]}
                for s, p in batch.touched.items()
            ],
        )
        subjects = list(batch.touched)
        await conn.execute(delete(tables.watch).where(tables.watch.c.subject_id.in_(subjects)))
        items = [i.__dict__ for s in subjects for i in watch_items(s, batch.latest[s])]
        if items:
            await conn.execute(
                pg_insert(tables.watch).values(items).on_conflict_do_nothing(index_elements=["key"])
            )
        for (month, measure), count in batch.interceptions.items():
            stmt = pg_insert(tables.interceptions).values(month=month, measure=measure, count=count)
            await conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["month", "measure"],
                    set_={"count": tables.interceptions.c.count + stmt.excluded.count},
                )
            )


@dataclass
class _Sub:
    id: UUID
    filters: Filters
    held: bool


@dataclass
class _Batch:
    subscriptions: list[_Sub]
    latest: dict[str, Any] = field(default_factory=dict)
    touched: dict[str, int] = field(default_factory=dict)
    deliveries: list[NewDelivery] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    interceptions: Counter[tuple[str, str]] = field(default_factory=Counter)


async def _latest(conn: AsyncConnection, subjects: set[str]) -> dict[str, Any]:
    if not subjects:
        return {}
    t = tables.subject_latest
    rows = await conn.execute(
        select(t.c.subject_id, t.c.status).where(t.c.subject_id.in_(subjects))
    )
    return {r.subject_id: r.status for r in rows}
