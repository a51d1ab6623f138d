"""The responder's service layer — ingest, the departments' passes, the inbox — on
its in-memory adapters (services/responder/memory.py): no Postgres, no Kafka."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from services.responder import execution
from services.responder.hosting import Hosting
from services.responder.ingest import Ingest
from services.responder.memory import MemoryResponderStore
from shared.adapters.topics import DEADLETTER, FEEDBACK
from shared.ports import OutboxMessage
from tests.support.responder_harness import Pipeline


@dataclass
class MemoryResponder(Pipeline):
    hosting: Hosting
    suffix: str = ".unit"
    store: MemoryResponderStore = field(default_factory=MemoryResponderStore)
    _offset: int = 0

    def __post_init__(self) -> None:
        self.ingest = Ingest(self.hosting, self.suffix)
        self.ctx = execution.Context(self.hosting, self.suffix, batch=50)

    def feedback(self) -> list[dict[str, Any]]:
        """The feedback events in the outbox, in order, decoded."""
        return [json.loads(m.value) for m in self._on(FEEDBACK)]

    def dead_letters(self) -> list[OutboxMessage]:
        return self._on(DEADLETTER)

    def _on(self, topic: str) -> list[OutboxMessage]:
        return [m for m in self.store.messages if m.topic == topic + self.suffix]
