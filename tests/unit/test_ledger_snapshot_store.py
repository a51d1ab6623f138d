"""The snapshot store's contract (tests/contracts/snapshot_store.py) in memory
(services/ledger/snapshot_store.py); Postgres runs it in
tests/integration/test_ledger_snapshot_store.py."""

from __future__ import annotations

import pytest

from services.ledger.snapshot_store import MemorySnapshotStore
from tests.contracts.snapshot_store import SnapshotStoreContract


class TestMemorySnapshotStore(SnapshotStoreContract):
    @pytest.fixture
    def store(self) -> MemorySnapshotStore:
        return MemorySnapshotStore()
