"""The responder's in-memory adapters pass the contract suites of their ports."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from services.responder.memory import MemoryCheckJournal, MemoryResponderStore
from tests.contracts.check_recorder import CheckRecorderContract, Stored
from tests.contracts.delivery_log import DeliveryLogContract
from tests.contracts.subject_events import SubjectEventsContract
from tests.contracts.task_store import TaskStoreContract


class TestMemoryCheckJournal(CheckRecorderContract):
    @pytest.fixture
    def recorder(self) -> MemoryCheckJournal:
        return MemoryCheckJournal()

    @pytest.fixture
    def stored(self, recorder: MemoryCheckJournal) -> Callable[[], Awaitable[Stored]]:
        async def read() -> Stored:
            return (
                [c.check_id for c in recorder.checks],
                [(m.key, m.value) for c in recorder.checks for m in c.interceptions],
            )

        return read

    @pytest.fixture
    def broken(self) -> MemoryCheckJournal:
        return MemoryCheckJournal(down=True)


class TestMemorySubjectEvents(SubjectEventsContract):
    @pytest.fixture
    def store(self) -> MemoryResponderStore:
        return MemoryResponderStore()


class TestMemoryDeliveryLog(DeliveryLogContract):
    @pytest.fixture
    def store(self) -> MemoryResponderStore:
        return MemoryResponderStore()


class TestMemoryTaskStore(TaskStoreContract):
    @pytest.fixture
    def store(self) -> MemoryResponderStore:
        return MemoryResponderStore()
