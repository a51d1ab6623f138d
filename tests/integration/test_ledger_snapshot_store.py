"""The snapshot store's contract (tests/contracts/snapshot_store.py) on Postgres
(services/ledger/snapshot_store_postgres.py, migration 0007); the in-memory adapter
runs it in tests/unit/test_ledger_snapshot_store.py."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from services.ledger.snapshot_store_postgres import PostgresSnapshotStore
from tests.contracts.snapshot_store import SnapshotStoreContract
from tests.support.infra import Infra
from tests.support.ledger_harness import fresh_engine

pytestmark = pytest.mark.integration


class TestPostgresSnapshotStore(SnapshotStoreContract):
    @pytest.fixture
    async def store(self, infra: Infra) -> AsyncIterator[PostgresSnapshotStore]:
        async with fresh_engine(infra) as engine:
            yield PostgresSnapshotStore(engine)
