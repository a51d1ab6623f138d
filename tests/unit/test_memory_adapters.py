"""The in-memory adapters pass the ports' contract suites (tests/contracts/); the
same suites run on Postgres in tests/integration/test_postgres_adapters.py."""

from __future__ import annotations

from typing import Any

import pytest

from services.initiator.memory import MemoryLedgerStatus, MemoryStreamStore
from services.ledger.memory import MemoryEventStore
from shared.adapters.memory import (
    MemoryIdempotency,
    MemoryOffsetStore,
    MemoryOutboxStore,
)
from tests.contracts.event_store import EventStoreContract
from tests.contracts.idempotency import IdempotencyContract
from tests.contracts.ledger_status import SANCTIONED, LedgerStatusContract
from tests.contracts.offsets import OffsetsContract
from tests.contracts.outbox import OutboxContract
from tests.contracts.subject_streams import SubjectStreamsContract


class TestMemoryEventStore(EventStoreContract):
    @pytest.fixture
    def store(self) -> MemoryEventStore:
        return MemoryEventStore()


class TestMemorySubjectStreams(SubjectStreamsContract):
    @pytest.fixture
    def streams(self) -> MemoryStreamStore:
        return MemoryStreamStore()


class TestMemoryIdempotency(IdempotencyContract):
    @pytest.fixture
    def answers(self) -> MemoryIdempotency[Any]:
        return MemoryIdempotency(MemoryStreamStore().begin)


class TestMemoryOutbox(OutboxContract):
    @pytest.fixture
    def outbox(self) -> MemoryOutboxStore:
        return MemoryOutboxStore()


class TestMemoryOffsets(OffsetsContract):
    @pytest.fixture
    def offsets(self) -> MemoryOffsetStore:
        return MemoryOffsetStore()


class TestMemoryLedgerStatus(LedgerStatusContract):
    @pytest.fixture
    def ledger(self) -> MemoryLedgerStatus:
        return MemoryLedgerStatus([SANCTIONED])

    @pytest.fixture
    def away(self) -> MemoryLedgerStatus:
        return MemoryLedgerStatus(away=True)
