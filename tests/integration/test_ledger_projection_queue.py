"""The projection queue's contract (tests/contracts/projection_queue.py) on Postgres
(services/ledger/projection_queue.py); the in-memory adapter runs it in
tests/unit/test_ledger_projection_queue.py."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from services.ledger.ingest_postgres import PostgresLedger
from tests.contracts.projection_queue import ProjectionQueueContract
from tests.support.infra import Infra
from tests.support.ledger_harness import fresh_engine

pytestmark = pytest.mark.integration


class TestPostgresProjectionQueue(ProjectionQueueContract):
    @pytest.fixture
    async def ledger(self, infra: Infra) -> AsyncIterator[PostgresLedger]:
        async with fresh_engine(infra) as engine:
            yield PostgresLedger(engine)
