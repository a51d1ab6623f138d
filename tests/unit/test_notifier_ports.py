"""The in-memory adapter of the notifier's Notices port passes its contract suite
(the Postgres one: tests/integration/test_notifier_store.py)."""

from __future__ import annotations

import pytest

from services.notifier.memory import MemoryNoticeStore
from tests.contracts.notices import NoticesContract


class TestMemoryNotices(NoticesContract):
    @pytest.fixture
    def notices(self) -> MemoryNoticeStore:
        return MemoryNoticeStore()
