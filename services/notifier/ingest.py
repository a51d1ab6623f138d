"""The consumer of jsb.status.v1: a consumed batch → the status log, the subject's
latest status, deliveries for every matching subscription, notices, watched
deadlines and interception counts: ONE transaction, with the consumer's offsets
(shared/adapters/consumer.py). So a crash keeps all of it or none of it, and a
status change consumed twice (the ledger re-publishes after a crash with the same
message id) is dropped by its message id: no delivery is enqueued twice, and a
delivery's `webhook_id` is derived from (subscription, message id), so even a
rebuilt queue would carry the same id.

This module decodes the records (status_decoder.py; poison → dead letters, in the same
transaction) and takes the batch's turn; status_batch.py applies the decoded messages
through the `Webhooks` port (ports.py) bound to the consumer's connection.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from aiokafka import ConsumerRecord
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.notifier import status_batch, tables
from services.notifier.ports import Webhooks
from services.notifier.status_batch import Received
from services.notifier.status_decoder import decode
from shared.adapters.deadletter import dead_letter
from shared.adapters.outbox import enqueue
from shared.domain.catalogue.index import CatalogueIndex
from shared.domain.envelope import Envelope

CONSUMER = "notifier.status"
_LOCK = 1414  # advisory-lock class of the status log's append turn
_TURN = text("SELECT pg_advisory_xact_lock(:c, hashtext(current_schema()))")


class Ingest:
    def __init__(
        self,
        catalogue: CatalogueIndex,
        webhooks: Callable[[AsyncConnection], Webhooks],
        suffix: str,
        decode: Callable[[bytes | None], Envelope] = decode,
    ) -> None:
        """`decode`: status_decoder.py's (the benchmark also runs its reference)."""
        self.catalogue, self.webhooks, self.suffix = catalogue, webhooks, suffix
        self.decode = decode

    async def __call__(self, conn: AsyncConnection, records: Sequence[ConsumerRecord]) -> None:
        # Why the lock: positions come from an identity column, allocated at insert and
        # visible at commit. Readers follow positions (the live stream, recovery); if two
        # instances' batches committed out of order, a reader past the later one would
        # skip the earlier one forever. Batches take turns (as the ledger's appends do,
        # docs/ledger.md "Global order readers can trust"), so positions appear in order;
        # and no other batch logs between the one's check of what was logged and its
        # append (status_batch.py).
        await conn.execute(_TURN, {"c": _LOCK})
        received: list[Received] = []
        dead = []
        for record in records:
            try:
                envelope = self.decode(record.value)  # a wrong schema is poison
                received.append(Received(envelope, record.value))
            except (ValidationError, ValueError) as exc:
                dead.append(dead_letter(record, str(exc)[:500], CONSUMER, self.suffix))
        if dead:
            await enqueue(conn, tables.outbox, dead)
        await status_batch.apply(self.catalogue, self.webhooks(conn), received)
