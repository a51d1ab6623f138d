"""The ingest's Kafka consumer: the transactional consumer, plus what only the ingest
needs once a batch has committed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from aiokafka.errors import KafkaError

from services.responder.freshness import Freshness
from services.responder.ingest import Ingest
from services.responder.live_index import IndexChanges
from shared.adapters.consumer import TransactionalConsumer


class IngestConsumer(TransactionalConsumer):
    """The transactional consumer, plus what only the ingest needs after a batch has
    committed: the in-process copy of the restriction index updated, the departments
    it gave work to woken (`wake`: with the last position each was given), and how
    fresh the local store is (everything the broker had, by when) noted."""

    def __init__(
        self,
        *,
        ingest: Ingest,
        freshness: Freshness,
        wake: Callable[[Mapping[str, int]], None],
        on_index: Callable[[IndexChanges], None] = lambda _: None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._ingest = ingest
        self._freshness = freshness
        self._wake = wake
        self._on_index = on_index

    async def poll_once(self) -> int:
        try:
            n = await super().poll_once()
        except BaseException:
            self._ingest.take_written()  # rolled back: nothing of it reaches the copy
            raise
        # Committed: the in-process copy of the index learns what the batch wrote
        # (live_index.py says why only now).
        self._on_index(self._ingest.take_written())
        touched = self._ingest.take_touched()
        if touched:
            self._wake(touched)
        at = await self.caught_up_at()
        if at is not None:
            await self._freshness.note(at)
        return n

    async def caught_up_at(self) -> datetime | None:
        """When the broker last reported, for every assigned partition, nothing beyond
        what has been applied (None: not caught up, or nothing assigned yet)."""
        consumer = self._consumer
        assigned = consumer.assignment()
        if not assigned:
            return None
        stamps: list[int] = []
        for tp in assigned:
            lso = consumer.last_stable_offset(tp)
            bound = lso if lso is not None and lso >= 0 else consumer.highwater(tp)
            stamp = consumer.last_poll_timestamp(tp)
            if bound is None or not stamp:
                return None
            try:  # known once assigned and sought; never wait for it here
                position = await asyncio.wait_for(consumer.position(tp), 1.0)
            except (TimeoutError, KafkaError):
                return None
            if position < bound:
                return None
            stamps.append(stamp)
        return datetime.fromtimestamp(min(stamps) / 1000, UTC)
