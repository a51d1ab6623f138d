"""The projection queue's contract (tests/contracts/projection_queue.py) on the
in-memory adapter (services/ledger/memory.py); Postgres runs it in
tests/integration/test_ledger_projection_queue.py."""

from __future__ import annotations

import pytest

from services.ledger.memory import MemoryLedger
from tests.contracts.projection_queue import ProjectionQueueContract


class TestMemoryProjectionQueue(ProjectionQueueContract):
    @pytest.fixture
    def ledger(self) -> MemoryLedger:
        return MemoryLedger()
