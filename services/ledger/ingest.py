"""Ingest: a batch of records from the designation and feedback topics becomes
one append to the event store (in the consumer's transaction, beside the offsets).
Poison records go to the dead-letter topic through the outbox; ingest goes on."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from aiokafka import ConsumerRecord
from sqlalchemy.ext.asyncio import AsyncConnection

from services.ledger import store, tables
from shared.adapters.deadletter import dead_letter
from shared.adapters.outbox import OutboxMessage, enqueue
from shared.domain.envelope import Envelope
from shared.domain.events import decode_bytes
from shared.domain.wire import PoisonMessage

log = logging.getLogger(__name__)

CONSUMER = "ledger.ingest"


class Ingest:
    def __init__(self, topic_suffix: str = "") -> None:
        self._suffix = topic_suffix
        self.appended = 0
        self.dead_lettered = 0

    async def __call__(self, conn: AsyncConnection, records: Sequence[ConsumerRecord]) -> None:
        batch: list[tuple[Envelope, store.SourceRef | None]] = []
        dead: list[OutboxMessage] = []
        for r in records:
            try:
                env, _ = decode_bytes(r.value)
            except PoisonMessage as exc:
                log.warning(
                    "dead-lettering %s[%s]@%s: %s", r.topic, r.partition, r.offset, exc.reason
                )
                dead.append(dead_letter(r, exc.reason, CONSUMER, self._suffix))
                continue
            batch.append((env, store.SourceRef(r.topic, r.partition, r.offset)))
        appended = await store.append(conn, tables.events, batch)
        await enqueue(conn, tables.outbox, dead)
        self.appended += len(appended)
        self.dead_lettered += len(dead)
