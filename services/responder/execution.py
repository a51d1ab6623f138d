"""Execution: designation events in, feedback events out (through the outbox,
in the transaction that stores the consumed offsets: exactly once in effect)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from aiokafka import ConsumerRecord
from sqlalchemy.ext.asyncio import AsyncConnection

from services.responder import tables
from shared.adapters.deadletter import dead_letter
from shared.adapters.outbox import OutboxMessage, enqueue
from shared.adapters.topics import FEEDBACK
from shared.domain.envelope import Envelope, utc_now
from shared.domain.events import decode_bytes, make_envelope
from shared.domain.feedback_events import MeasureExecuted
from shared.domain.lifecycle_events import DesignationIssued
from shared.domain.wire import PoisonMessage

log = logging.getLogger(__name__)

CONSUMER = "responder.execution"


def feedback_for(envelope: Envelope, event: DesignationIssued) -> list[Envelope]:
    """Auto mode: every task of the designation is applied at once and reported."""
    return [
        make_envelope(
            MeasureExecuted(
                designation_id=event.designation_id,
                measure=task.measure,
                department=task.department,
                note="applied automatically",
            ),
            subject=envelope.subject,
            source=f"/responder/{task.department}",
            time=utc_now(),
            correlationid=envelope.correlationid or str(envelope.id),
            causationid=str(envelope.id),
        )
        for task in event.tasks
    ]


class Execution:
    def __init__(self, topic_suffix: str = "") -> None:
        self._suffix = topic_suffix
        self.emitted = 0

    async def __call__(self, conn: AsyncConnection, records: Sequence[ConsumerRecord]) -> None:
        out: list[OutboxMessage] = []
        for r in records:
            try:
                envelope, event = decode_bytes(r.value)
            except PoisonMessage as exc:
                out.append(dead_letter(r, exc.reason, CONSUMER, self._suffix))
                continue
            if isinstance(event, DesignationIssued):
                out.extend(
                    OutboxMessage(FEEDBACK + self._suffix, fb.subject, fb.to_json_bytes())
                    for fb in feedback_for(envelope, event)
                )
        await enqueue(conn, tables.outbox, out)
        self.emitted += len(out)
