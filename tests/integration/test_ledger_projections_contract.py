"""The ledger's `Projections` contract (tests/contracts/ledger_projections.py) on
Postgres (services/ledger/ingest_postgres.py); the in-memory adapter runs it in
tests/unit/test_ledger_ingest_memory.py."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from services.ledger.ingest_postgres import PostgresLedger
from tests.contracts.ledger_projections import ProjectionsContract
from tests.support.infra import Infra
from tests.support.ledger_harness import fresh_engine

pytestmark = pytest.mark.integration


class TestPostgresProjections(ProjectionsContract):
    @pytest.fixture
    async def ledger(self, infra: Infra) -> AsyncIterator[PostgresLedger]:
        async with fresh_engine(infra) as engine:
            yield PostgresLedger(engine)
